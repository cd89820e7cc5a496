import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed, expiring links: what nightshift puts in a message (thumbnail, original, a file's page
 * in the console, the summary chart) must open on a phone or on LINE's servers, which cannot send
 * the API token. A link carries `exp` (unix seconds) and `sig` (HMAC-SHA256 over path and expiry),
 * so it works for that one path until it expires and cannot be bent to another.
 */
export interface LinkSigner {
  /** `path` (starting with `/`, no query) with `?exp=…&sig=…` appended; relative to PUBLIC_URL. */
  sign(path: string, now?: number): string;
  /** Checks a request's path and its `exp`/`sig` query parameters. */
  verify(path: string, query: { readonly exp?: unknown; readonly sig?: unknown }, now?: number): LinkCheck;
}

export type LinkCheck = { readonly ok: true } | { readonly ok: false; readonly reason: 'absent' | 'expired' | 'tampered'; readonly message: string };

function mac(secret: string, path: string, exp: number): Buffer {
  return createHmac('sha256', secret).update(`link\u0000${path}\u0000${exp}`).digest();
}

export function linkSigner(secret: string, ttlMs: number): LinkSigner {
  return {
    sign(path, now = Date.now()) {
      const exp = Math.floor((now + ttlMs) / 1000);
      const sep = path.includes('?') ? '&' : '?';
      return `${path}${sep}exp=${exp}&sig=${mac(secret, path, exp).toString('base64url')}`;
    },
    verify(path, query, now = Date.now()) {
      const { exp, sig } = query;
      if (exp === undefined && sig === undefined) return { ok: false, reason: 'absent', message: 'this link is not signed' };
      const expiry = typeof exp === 'string' && /^\d{1,12}$/.test(exp) ? Number(exp) : NaN;
      if (typeof sig !== 'string' || !Number.isFinite(expiry)) {
        return { ok: false, reason: 'tampered', message: 'this link has been altered: ask for a new one' };
      }
      const want = mac(secret, path, expiry);
      const got = Buffer.from(sig, 'base64url');
      if (got.length !== want.length || !timingSafeEqual(got, want)) {
        return { ok: false, reason: 'tampered', message: 'this link has been altered: ask for a new one' };
      }
      if (expiry * 1000 < now)
        return { ok: false, reason: 'expired', message: `this link expired at ${new Date(expiry * 1000).toISOString()}: ask for a new one` };
      return { ok: true };
    },
  };
}
