import { timingSafeEqual } from 'node:crypto';

import type { FastifyReply, FastifyRequest } from 'fastify';

import { ErrorCodes, NightshiftError } from '../errors.js';
import { type LinkSigner, signedParts, verifyRequestUrl } from '../links.js';

/** Compare two secrets in constant time. */
export function same(a: string, b: string): boolean {
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

/**
 * The API scope's guard. A GET carrying `exp`/`sig` is a signed link from a message: valid, it
 * stands in for the token (for the one path it was made for); altered or expired, it answers
 * 403 LINK_INVALID / LINK_EXPIRED, never 401, so the reader learns the link is the problem, not
 * a login. Anything else needs the token when one is set.
 */
export function requireTokenOrLink(token: string | undefined, links: LinkSigner, options: { realm: string; now?: () => number }) {
  const tokenCheck = token === undefined ? undefined : requireToken(token, { allowBasic: false, realm: options.realm });
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const parts = signedParts(request.url);
    if (parts.exp !== undefined || parts.sig !== undefined) {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        throw new NightshiftError(ErrorCodes.LINK_INVALID, 'a signed link only opens GET requests', { status: 403 });
      }
      const check = verifyRequestUrl(links, request.url, options.now?.());
      if (check.ok) return;
      throw new NightshiftError(check.reason === 'expired' ? ErrorCodes.LINK_EXPIRED : ErrorCodes.LINK_INVALID, check.message, { status: 403 });
    }
    if (tokenCheck) await tokenCheck(request, reply);
  };
}
