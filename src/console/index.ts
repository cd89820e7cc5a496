import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';

import { NightshiftError } from '../errors.js';
import type { HttpDeps } from '../http/deps.js';
import { hideFromDocs } from '../http/openapi.js';
import { actionRoutes } from './actions.js';
import { createBatches } from './batches.js';
import type { ConsoleDeps } from './deps.js';
import { html } from './html.js';
import { ASSETS, shell } from './layout.js';
import { pageRoutes } from './pages.js';
import { createSessions } from './session.js';
import { signInRoutes } from './signin.js';
import { CONSOLE_CSS } from './style.js';

/** Everything the console's pages may load: its own script and stylesheet, its own images. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * The operator console at `/`: server-rendered pages (src/console/*.ts) made live by htmx, which
 * nightshift serves itself from the htmx.org package. Sign-in with API_TOKEN sets a signed,
 * HttpOnly, SameSite=Strict session cookie; every POST carries the session's CSRF token.
 */
export async function mountConsole(app: FastifyInstance, httpDeps: HttpDeps): Promise<void> {
  const deps: ConsoleDeps = { ...httpDeps, sessions: createSessions(httpDeps.config.apiToken), batches: createBatches() };
  const htmx = readFileSync(createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js'));
  await app.register(async (scope) => {
    // Browser pages: out of the OpenAPI document (its test allows only these to hide).
    scope.addHook('onRoute', hideFromDocs);
    await scope.register(cookie, { secret: deps.sessions.cookieSecret });
    await scope.register(formbody, { bodyLimit: 64 * 1024 });
    scope.addHook('onSend', async (_request, reply, payload) => {
      const type = reply.getHeader('content-type');
      if (typeof type === 'string' && type.startsWith('text/html')) {
        void reply.header('Content-Security-Policy', CSP).header('X-Content-Type-Options', 'nosniff').header('Referrer-Policy', 'same-origin');
      }
      return payload;
    });
    scope.setErrorHandler((err, request, reply) => {
      const status =
        err instanceof NightshiftError
          ? err.status
          : typeof (err as { statusCode?: unknown }).statusCode === 'number'
            ? (err as { statusCode: number }).statusCode
            : 500;
      if (status >= 500) request.log.error({ err }, 'console request failed');
      const message = status >= 500 ? 'Something went wrong on the server; the log has the details.' : err instanceof Error ? err.message : String(err);
      return reply
        .code(status)
        .type('text/html; charset=utf-8')
        .send(
          shell(
            status === 404 ? 'Not found' : 'Error',
            null,
            null,
            html`<p class="error-box" role="alert">${message}</p>
              <p><a href="/">Back to the console</a></p>`,
          ).value,
        );
    });
    scope.get(`${ASSETS}/htmx.min.js`, async (_request, reply) =>
      reply.type('text/javascript; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(htmx),
    );
    scope.get(`${ASSETS}/console.css`, async (_request, reply) =>
      reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(CONSOLE_CSS),
    );
    signInRoutes(scope, deps);
    pageRoutes(scope, deps);
    actionRoutes(scope, deps);
  });
}
