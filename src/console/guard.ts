import type { FastifyReply, FastifyRequest } from 'fastify';

import type { ConsoleDeps } from './deps.js';
import type { ConsoleSession } from './session.js';

/** The request's session, or an answer sending the browser to sign in (htmx polls get HX-Redirect). */
export function sessionOrSignIn(deps: ConsoleDeps, request: FastifyRequest, reply: FastifyReply): ConsoleSession | FastifyReply {
  const session = deps.sessions.of(request);
  if (session) return session;
  const to = `/sign-in?next=${encodeURIComponent(request.method === 'GET' ? request.url : '/')}`;
  if (request.headers['hx-request'] === 'true') return reply.header('HX-Redirect', to).code(200).send('');
  return reply.code(303).redirect(to);
}

export function isReply(x: ConsoleSession | FastifyReply): x is FastifyReply {
  return !('csrf' in x);
}
