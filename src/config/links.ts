import { createHmac } from 'node:crypto';

import { defaults } from '../../config/defaults.js';
import { type ConfigIssue, type Env } from './section.js';

/** How the links put in messages are made (see src/links.ts). */
export interface LinkConfig {
  /**
   * The HMAC key of signed links: LINK_SIGNING_SECRET, else derived from API_TOKEN. Undefined
   * when neither is set: the API is open then, and links go out unsigned.
   */
  readonly secret: string | undefined;
  /** Lifetime of a link from the moment it is put in a message, ms (LINK_TTL). */
  readonly ttlMs: number;
  /**
   * LINK_MODE: `signed` links point at nightshift; `presigned` (S3 storage only) hands out S3
   * presigned GET URLs for the thumbnail and the original, with the TTL capped at S3's 7 days.
   */
  readonly mode: 'signed' | 'presigned';
}

/** S3's longest presigned URL lifetime (SigV4: 604,800 s). */
export const S3_PRESIGN_MAX_MS = 7 * 24 * 3_600_000;

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `7d`, `12h`, `30m`, `90s`, `500ms` or plain milliseconds; undefined when it is none of these. */
export function parseDuration(raw: string): number | undefined {
  const m = /^(\d{1,12})\s*(ms|s|m|h|d)?$/.exec(raw.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * (UNITS[m[2] ?? 'ms'] ?? 1);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** The link key derived from the API token, so a deployment with a token needs no second secret. */
export function deriveLinkSecret(apiToken: string): string {
  return createHmac('sha256', apiToken).update('nightshift link signing v1').digest('hex');
}

/**
 * LINK_SIGNING_SECRET, LINK_TTL, LINK_MODE and PUBLIC_URL's rules, read against the rest of
 * the config: the token, the storage kind, and whether a configured notifier needs HTTPS links
 * (LINE fetches a message's image itself, and only over HTTPS).
 */
export function readLinkConfig(
  env: Env,
  context: {
    readonly apiToken: string | undefined;
    readonly publicUrl: string | undefined;
    readonly storageKind: 'local' | 's3';
    /** The configured notifiers that need an https PUBLIC_URL, with why. */
    readonly httpsLinksFor: ReadonlyArray<{ readonly name: string; readonly why: string }>;
  },
): { config: LinkConfig; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const blank = (v: string | undefined) => v === undefined || v.trim() === '';

  const rawSecret = env.LINK_SIGNING_SECRET;
  let secret: string | undefined;
  if (!blank(rawSecret)) {
    secret = rawSecret!.trim();
    if (secret.length < 16) issues.push({ key: 'LINK_SIGNING_SECRET', message: 'must be at least 16 characters' });
  } else if (context.apiToken !== undefined) secret = deriveLinkSecret(context.apiToken);

  let ttlMs: number = defaults.LINK_TTL_MS;
  if (!blank(env.LINK_TTL)) {
    const parsed = parseDuration(env.LINK_TTL!);
    if (parsed === undefined || parsed < 1_000)
      issues.push({ key: 'LINK_TTL', message: 'must be a duration of at least 1 s: e.g. 7d, 12h, 30m, 90s or milliseconds' });
    else if (parsed > 366 * 86_400_000) issues.push({ key: 'LINK_TTL', message: 'must be at most 366d' });
    else ttlMs = parsed;
  }

  const rawMode = blank(env.LINK_MODE) ? defaults.LINK_MODE : env.LINK_MODE!.trim();
  let mode: LinkConfig['mode'] = 'signed';
  if (rawMode === 'presigned') {
    if (context.storageKind !== 's3') issues.push({ key: 'LINK_MODE', message: 'presigned needs S3 storage (STORAGE_URL=s3://…); use signed' });
    else mode = 'presigned';
  } else if (rawMode !== 'signed') issues.push({ key: 'LINK_MODE', message: 'must be signed or presigned' });

  if (context.publicUrl !== undefined) {
    const url = new URL(context.publicUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') issues.push({ key: 'PUBLIC_URL', message: 'must be an http:// or https:// URL' });
    else if (url.search !== '' || url.hash !== '') issues.push({ key: 'PUBLIC_URL', message: 'must be a base URL without ?query or #fragment' });
  }
  for (const n of context.httpsLinksFor) {
    if (context.publicUrl === undefined) {
      issues.push({ key: 'PUBLIC_URL', message: `required with the ${n.name} notifier: set it to this service's https:// address (${n.why})` });
    } else if (!context.publicUrl.startsWith('https://')) {
      issues.push({ key: 'PUBLIC_URL', message: `must be https:// with the ${n.name} notifier (${n.why})` });
    }
  }
  return { config: { secret, ttlMs, mode }, issues };
}
