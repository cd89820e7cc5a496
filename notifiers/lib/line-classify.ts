import type { SendResult } from '../../src/notify/notifier.js';
import { LineTimeoutError } from './line-fetch.js';
import { lineSdk } from './line-sdk.js';

/** LINE's text for a 429 that means "no more messages this month", not "slow down". */
export const MONTHLY_LIMIT_MESSAGE = 'You have reached your monthly limit.';
/** LINE's text for a 409 on a retry key whose request was already accepted. */
export const RETRY_KEY_ACCEPTED_MESSAGE = 'The retry key is already accepted';
/** Backoff for a 429 rate limit without Retry-After (LINE normally sends none). */
export const DEFAULT_RATE_LIMIT_BACKOFF_MS = 30_000;

interface LineErrorBody {
  readonly message: string | undefined;
  readonly details: ReadonlyArray<{ readonly message?: unknown; readonly property?: unknown }>;
  readonly sentMessageIds: readonly string[];
}

function parseBody(body: string): LineErrorBody {
  try {
    const v: unknown = JSON.parse(body);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const sent = Array.isArray(o.sentMessages) ? o.sentMessages : [];
      return {
        message: typeof o.message === 'string' ? o.message : undefined,
        details: Array.isArray(o.details) ? (o.details as LineErrorBody['details']) : [],
        sentMessageIds: sent.flatMap((m: unknown) =>
          m && typeof m === 'object' && typeof (m as { id?: unknown }).id === 'string' ? [(m as { id: string }).id] : [],
        ),
      };
    }
  } catch {
    // Not JSON (a proxy's HTML page): fall through and use the raw text.
  }
  return { message: body.trim().slice(0, 300) || undefined, details: [], sentMessageIds: [] };
}

/** LINE's message plus its per-property details, as one line a person can act on. */
function describe(status: number, parsed: LineErrorBody): string {
  const details = parsed.details
    .map((d) => [typeof d.property === 'string' ? d.property : '', typeof d.message === 'string' ? d.message : ''].filter(Boolean).join(': '))
    .filter(Boolean);
  const text = parsed.message ?? `HTTP ${status}`;
  return `LINE ${status}: ${text}${details.length > 0 ? ` (${details.join('; ')})` : ''}`;
}

/** Retry-After as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const s = value.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const at = Date.parse(s);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** 00:00 UTC on the first day of the month after `now`. */
export function startOfNextMonthUtc(now: Date = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}

/** What a failed SDK call means for delivery. `secret` is scrubbed from every text. */
export function classifyLineError(err: unknown, secret: string, now: Date = new Date()): SendResult {
  const scrub = (s: string): string => (secret ? s.split(secret).join('[redacted]') : s);
  if (err instanceof lineSdk().HTTPFetchError) {
    const parsed = parseBody(err.body);
    const error = scrub(describe(err.status, parsed));
    if (err.status === 409 && parsed.message === RETRY_KEY_ACCEPTED_MESSAGE) {
      const accepted = err.headers.get('x-line-accepted-request-id');
      const ids = parsed.sentMessageIds.length > 0 ? ` sentMessages=${parsed.sentMessageIds.join(',')}` : '';
      return { status: 'delivered', response: scrub(`already accepted (request ${accepted ?? 'unknown'})${ids}`) };
    }
    if (err.status === 429) {
      if (parsed.message === MONTHLY_LIMIT_MESSAGE) return { status: 'retryable', error, pauseChannelUntil: startOfNextMonthUtc(now) };
      return {
        status: 'retryable',
        error,
        retryAfterMs: parseRetryAfter(err.headers.get('retry-after'), now.getTime()) ?? DEFAULT_RATE_LIMIT_BACKOFF_MS,
      };
    }
    if (err.status >= 500 || err.status === 408) return { status: 'retryable', error };
    return { status: 'permanent', error };
  }
  if (err instanceof LineTimeoutError) return { status: 'retryable', error: err.message };
  const e = err instanceof Error ? err : new Error(String(err));
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return { status: 'retryable', error: 'LINE request aborted' };
  // fetch's own failures are TypeError("fetch failed") with the socket error as `cause`.
  const cause = e.cause instanceof Error ? `: ${e.cause.message}` : '';
  return { status: 'retryable', error: scrub(`LINE request failed: ${e.message}${cause}`) };
}
