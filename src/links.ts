import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

import type { Config } from './config.js';
import { filePath } from './pipeline/result.js';

/**
 * Signed, expiring links: what nightshift puts in a message (thumbnail, original, a file's page
 * in the console, the summary chart) must open on a phone or on LINE's servers, which cannot send
 * the API token. A link carries `exp` (unix seconds) and `sig` (HMAC-SHA256 over path and expiry),
 * so it works for that one path until it expires and cannot be bent to another.
 *
 * This module is the one place that builds the paths links point at and signs them; the URL of
 * a message's link is made from PUBLIC_URL + these paths by src/notify/links.ts.
 */
export interface LinkSigner {
  /**
   * `path` (starting with `/`, percent-encoded as it will be requested; it may carry a query of
   * its own, which is signed with it) with `exp=…&sig=…` appended; relative to PUBLIC_URL.
   */
  sign(path: string, now?: number): string;
  /** Checks a path (with its own query, if it had one when signed) and its `exp`/`sig` query parameters. */
  verify(path: string, query: { readonly exp?: unknown; readonly sig?: unknown }, now?: number): LinkCheck;
}

export type LinkCheck = { readonly ok: true } | { readonly ok: false; readonly reason: 'absent' | 'expired' | 'tampered'; readonly message: string };

/** The owner segment of the summaries routes for the all-owners report. */
export const ALL_OWNERS = '*';

/** The paths a message links to: nothing else concatenates one. */
export const linkPaths = {
  /** The WebP thumbnail (`GET /api/v1/files/:id/thumbnail`). */
  thumbnail: (fileId: string): string => `${filePath(fileId)}/thumbnail`,
  /** The uploaded bytes (`GET /api/v1/files/:id/original`). */
  original: (fileId: string): string => `${filePath(fileId)}/original`,
  /** The file's page in the console (`GET /files/:id`). */
  page: (fileId: string): string => `/files/${encodeURIComponent(fileId)}`,
  /** The thumbnail as the console's page shows it (`GET /files/:id/thumbnail`). */
  pageThumbnail: (fileId: string): string => `/files/${encodeURIComponent(fileId)}/thumbnail`,
  /** The daily summary's chart (`GET /api/v1/summaries/:owner/chart.png?date=`); null owner: all owners. */
  chart: (owner: string | null, date: string): string =>
    `/api/v1/summaries/${encodeURIComponent(owner ?? ALL_OWNERS)}/chart.png?date=${encodeURIComponent(date)}`,
} as const;

function mac(secret: string, path: string, exp: number): Buffer {
  return createHmac('sha256', secret).update(`link\u0000${path}\u0000${exp}`).digest();
}

const TAMPERED = 'this link has been altered or is incomplete: ask for a new one';

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
      if (typeof sig !== 'string' || !Number.isFinite(expiry)) return { ok: false, reason: 'tampered', message: TAMPERED };
      const want = mac(secret, path, expiry);
      const got = Buffer.from(sig, 'base64url');
      // Buffer.from(base64url) skips junk characters: the round trip proves the form.
      if (got.length !== want.length || got.toString('base64url') !== sig || !timingSafeEqual(got, want)) {
        return { ok: false, reason: 'tampered', message: TAMPERED };
      }
      if (expiry * 1000 < now)
        return { ok: false, reason: 'expired', message: `this link expired at ${new Date(expiry * 1000).toISOString()}: ask for a new one` };
      return { ok: true };
    },
  };
}

/**
 * The service's signer: LINK_SIGNING_SECRET (or the key derived from API_TOKEN) and LINK_TTL.
 * With neither secret nor token, a random key: the API is open then and no link is signed, so
 * nothing needs to verify across processes.
 */
export function signerFor(config: Pick<Config, 'links'>): LinkSigner {
  return linkSigner(config.links.secret ?? randomBytes(32).toString('hex'), config.links.ttlMs);
}

/**
 * A request URL (`/path?query`, as received) split into what was signed (the path and its own
 * query, in the order and encoding sent) and the `exp`/`sig` parameters. Undefined `exp` and
 * `sig` when the request carries neither; a repeated one makes the link tampered.
 */
export function signedParts(rawUrl: string): { path: string; exp?: string; sig?: string; repeated: boolean } {
  const q = rawUrl.indexOf('?');
  if (q === -1) return { path: rawUrl, repeated: false };
  const kept: string[] = [];
  const found: { exp?: string; sig?: string } = {};
  let repeated = false;
  for (const part of rawUrl.slice(q + 1).split('&')) {
    const eq = part.indexOf('=');
    const name = eq === -1 ? part : part.slice(0, eq);
    if (name === 'exp' || name === 'sig') {
      if (found[name] !== undefined) repeated = true;
      let value = eq === -1 ? '' : part.slice(eq + 1);
      try {
        value = decodeURIComponent(value);
      } catch {
        repeated = true;
      }
      found[name] = value;
    } else if (part !== '') kept.push(part);
  }
  return { path: kept.length > 0 ? `${rawUrl.slice(0, q)}?${kept.join('&')}` : rawUrl.slice(0, q), ...found, repeated };
}

/** Check a request's URL as received: `absent` when it carries no `exp`/`sig` at all. */
export function verifyRequestUrl(signer: LinkSigner, rawUrl: string, now?: number): LinkCheck {
  const parts = signedParts(rawUrl);
  if (parts.repeated) return { ok: false, reason: 'tampered', message: TAMPERED };
  return signer.verify(parts.path, parts, now);
}
