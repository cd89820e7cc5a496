import { timingSafeEqual } from 'node:crypto';

import type { FastifyReply, FastifyRequest } from 'fastify';

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The token a request presents: `Bearer <token>`, or basic auth with the token as password (browsers, for /dash). */
function presented(request: FastifyRequest, allowBasic: boolean): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const [scheme, value] = header.split(' ', 2);
  if (!value) return undefined;
  if (scheme?.toLowerCase() === 'bearer') return value.trim();
  if (allowBasic && scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? undefined : decoded.slice(colon + 1);
  }
  return undefined;
}

/** A preHandler that answers 401 unless the request carries the API token. */
export function requireToken(token: string, options: { allowBasic: boolean; realm: string }) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const got = presented(request, options.allowBasic);
    if (got !== undefined && same(got, token)) return;
    if (options.allowBasic) reply.header('WWW-Authenticate', `Basic realm="${options.realm}", charset="UTF-8"`);
    else reply.header('WWW-Authenticate', `Bearer realm="${options.realm}"`);
    await reply.code(401).send({ error: { code: 'UNAUTHORIZED', message: 'missing or wrong API token (Authorization: Bearer <API_TOKEN>)' } });
  };
}
