import { createHmac, randomBytes } from 'node:crypto';

import type { FastifyReply, FastifyRequest } from 'fastify';

import { same } from '../http/auth.js';

/** The console's session cookie: `<expiry ms>.<nonce>`, signed by @fastify/cookie. */
export const SESSION_COOKIE = 'nightshift_session';
/** How long a sign-in lasts, ms. */
export const SESSION_TTL_MS = 12 * 3600 * 1000;

export interface ConsoleSession {
  /** The CSRF token every form of this session carries (`_csrf`) and every POST must return. */
  readonly csrf: string;
  /** False when the console opens without a token (no API_TOKEN, loopback only). */
  readonly signedIn: boolean;
}

/**
 * Sessions without server state: the cookie names its expiry and a random nonce, its signature
 * comes from a key derived from API_TOKEN (so a restart keeps people signed in and a new token
 * signs everyone out), and the CSRF token is an HMAC of the nonce. Signing out remembers the
 * nonce in this process until it expires.
 */
export function createSessions(apiToken: string | undefined) {
  const key = apiToken ? createHmac('sha256', 'nightshift console session').update(apiToken).digest('hex') : randomBytes(32).toString('hex');
  const csrfOf = (nonce: string) => createHmac('sha256', key).update(`csrf\u0000${nonce}`).digest('base64url');
  const revoked = new Map<string, number>();
  const open: ConsoleSession | null = apiToken ? null : { csrf: csrfOf('open'), signedIn: false };

  return {
    /** The secret @fastify/cookie signs with. */
    cookieSecret: key,
    /** True when sign-in is needed (API_TOKEN is set). */
    required: apiToken !== undefined,
    /** Whether the password typed at sign-in is the API token. */
    checkToken(typed: string): boolean {
      return apiToken !== undefined && same(typed, apiToken);
    },
    /** The request's session: from its cookie, or the open one without API_TOKEN; null when signed out. */
    of(request: FastifyRequest): ConsoleSession | null {
      if (open) return open;
      const raw = request.cookies[SESSION_COOKIE];
      if (!raw) return null;
      const unsigned = request.unsignCookie(raw);
      if (!unsigned.valid || unsigned.value === null) return null;
      const [exp, nonce] = unsigned.value.split('.', 2);
      if (!exp || !nonce || Number(exp) < Date.now() || revoked.has(nonce)) return null;
      return { csrf: csrfOf(nonce), signedIn: true };
    },
    signIn(request: FastifyRequest, reply: FastifyReply): void {
      const exp = Date.now() + SESSION_TTL_MS;
      const nonce = randomBytes(18).toString('base64url');
      void reply.setCookie(SESSION_COOKIE, `${exp}.${nonce}`, {
        signed: true,
        httpOnly: true,
        sameSite: 'strict',
        secure: request.protocol === 'https',
        path: '/',
        maxAge: Math.floor(SESSION_TTL_MS / 1000),
      });
    },
    signOut(request: FastifyRequest, reply: FastifyReply): void {
      const raw = request.cookies[SESSION_COOKIE];
      const unsigned = raw ? request.unsignCookie(raw) : null;
      if (unsigned?.valid && unsigned.value) {
        const [exp, nonce] = unsigned.value.split('.', 2);
        if (nonce) revoked.set(nonce, Number(exp));
      }
      const now = Date.now();
      for (const [n, exp] of revoked) if (exp < now) revoked.delete(n);
      void reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict' });
    },
    /** A POST's CSRF token (`_csrf` field or `x-csrf-token` header) matches its session's. */
    csrfOk(request: FastifyRequest, session: ConsoleSession): boolean {
      const body = request.body as Record<string, unknown> | undefined;
      const sent = typeof body?._csrf === 'string' ? body._csrf : request.headers['x-csrf-token'];
      return typeof sent === 'string' && same(sent, session.csrf);
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
