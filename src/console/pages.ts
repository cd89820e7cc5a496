import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

import { ErrorCodes, NightshiftError } from '../errors.js';
import { notFound, parse } from '../http/validate.js';
import { verifyRequestUrl } from '../links.js';
import { stepResult } from '../pipeline/result.js';
import type { ConsoleDeps } from './deps.js';
import { failuresPage } from './failures.js';
import { filePage } from './file.js';
import { filesPage, FilesQuery } from './files.js';
import { isReply, sessionOrSignIn } from './guard.js';
import { html } from './html.js';
import { type PageView, sendPage, shell } from './layout.js';
import { notificationPage, notificationsPage, NotificationsQuery } from './notifications.js';
import { overviewPage } from './overview.js';
import { schedulesPage } from './schedules.js';
import type { ConsoleSession } from './session.js';
import { workersPage } from './workers.js';

const Id = z.object({ id: z.string().min(1).max(64) });

/** The console's GET pages; each needs a session except a file's page opened through a signed link. */
export function pageRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const page = (path: string, build: (request: FastifyRequest, session: ConsoleSession) => Promise<PageView>) =>
    app.get(path, async (request, reply) => {
      const session = sessionOrSignIn(deps, request, reply);
      if (isReply(session)) return session;
      return sendPage(request, reply, await build(request, session), session);
    });

  page('/', () => overviewPage(deps));
  page('/files', (request) => filesPage(deps, parse(FilesQuery, request.query)));
  page('/failures', (_request, session) => failuresPage(deps, session));
  page('/notifications', (request, session) => notificationsPage(deps, session, parse(NotificationsQuery, request.query)));
  page('/notifications/:id', async (request, session) => {
    const { id } = parse(Id, request.params);
    const n = await deps.store.outbox.get(id);
    if (!n) throw notFound('notification', id);
    return notificationPage(n, session);
  });
  page('/schedules', (_request, session) => schedulesPage(deps, session));
  page('/workers', (_request, session) => workersPage(deps, session));

  /** A signed link (?exp&sig) opens the page read-only; a bad one is refused, even with a session. */
  const linkCheck = (request: FastifyRequest, reply: FastifyReply): 'signed' | 'absent' | FastifyReply => {
    const check = verifyRequestUrl(deps.links, request.url);
    if (check.ok) return 'signed';
    if (check.reason === 'absent') return 'absent';
    return reply
      .code(403)
      .type('text/html; charset=utf-8')
      .send(
        shell(
          'Link not valid',
          null,
          null,
          html`<p class="error-box" role="alert">${check.message}</p>
            <p>Signed in operators can <a href="/sign-in">sign in</a> and open the file from the console.</p>`,
        ).value,
      );
  };

  app.get('/files/:id', async (request, reply) => {
    const { id } = parse(Id, request.params);
    const link = linkCheck(request, reply);
    if (typeof link !== 'string') return link;
    const found = deps.sessions.of(request);
    const session = link === 'signed' ? found : sessionOrSignIn(deps, request, reply);
    if (session && isReply(session)) return session;
    const file = await deps.store.getFile(id);
    if (!file) throw notFound('file', id);
    return sendPage(request, reply, await filePage(deps, file, session), session);
  });

  app.get('/files/:id/thumbnail', async (request, reply) => {
    const { id } = parse(Id, request.params);
    const link = linkCheck(request, reply);
    if (typeof link !== 'string') return link;
    if (link === 'absent') {
      const session = sessionOrSignIn(deps, request, reply);
      if (isReply(session)) return session;
    }
    const file = await deps.store.getFile(id);
    if (!file) throw notFound('file', id);
    const key = stepResult(file, 'thumbnail')?.thumbnailKey;
    if (typeof key !== 'string') throw new NightshiftError(ErrorCodes.NOT_FOUND, `file ${id} has no thumbnail (yet)`, { status: 404 });
    return reply
      .type('image/webp')
      .header('Cache-Control', 'private, max-age=3600')
      .send(await deps.blobs.get(key));
  });
}
