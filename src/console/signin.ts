import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import type { ConsoleDeps } from './deps.js';
import { html } from './html.js';
import { shell } from './layout.js';

const SignIn = z.object({ token: z.string().max(1024).default(''), next: z.string().max(2048).default('/') });

/** Only a same-site path may follow a sign-in (no open redirect). */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

function signInPage(next: string, error: string | null) {
  return shell(
    'Sign in',
    null,
    null,
    html`<form class="card signin" method="post" action="/sign-in">
      ${error ? html`<p class="error-box" role="alert">${error}</p>` : ''}
      <p>Sign in with the service's API token (API_TOKEN).</p>
      <input type="hidden" name="next" value="${next}" />
      <label>API token<input type="password" name="token" autocomplete="current-password" required autofocus /></label>
      <button type="submit">Sign in</button>
    </form>`,
  );
}

/** GET/POST /sign-in and POST /sign-out. */
export function signInRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const { sessions } = deps;
  app.get('/sign-in', async (request, reply) => {
    const next = safeNext((request.query as { next?: unknown }).next);
    if (!sessions.required || sessions.of(request)) return reply.code(303).redirect(next);
    return reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(signInPage(next, null).value);
  });
  app.post('/sign-in', async (request, reply) => {
    const body = SignIn.safeParse(request.body ?? {});
    const next = safeNext(body.success ? body.data.next : '/');
    if (!sessions.required) return reply.code(303).redirect(next);
    if (!body.success || !sessions.checkToken(body.data.token)) {
      request.log.warn('console sign-in refused: wrong token');
      return reply.code(401).type('text/html; charset=utf-8').send(signInPage(next, 'That is not the API token.').value);
    }
    sessions.signIn(request, reply);
    return reply.code(303).redirect(next);
  });
  app.post('/sign-out', async (request, reply) => {
    const session = sessions.of(request);
    if (session && !sessions.csrfOk(request, session))
      return reply.code(403).type('text/html; charset=utf-8').send('<p>Refused: the form is stale (CSRF check). Reload the page.</p>');
    sessions.signOut(request, reply);
    return reply.code(303).redirect('/sign-in');
  });
}
