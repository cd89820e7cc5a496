/**
 * When a failed delivery is tried again: capped exponential backoff with jitter, for as long as
 * the retry window lasts, counted from the first attempt. Deliveries outlive outages: with the
 * defaults a notification is retried for a day (about 35 attempts), as mail servers retry.
 */
export interface RetryPolicy {
  /** How long a notification is retried, from its first attempt, before it is dead (ms; NOTIFY_RETRY_FOR, default 24 h). */
  readonly forMs: number;
  /** The longest wait between two attempts (ms; NOTIFY_RETRY_MAX_DELAY, default 1 h). */
  readonly maxDelayMs: number;
  /** The wait before the first retry (ms); it doubles with each attempt up to maxDelayMs. */
  readonly firstDelayMs: number;
}

export const RETRY_DEFAULTS = { NOTIFY_RETRY_FOR: 24 * 3_600_000, NOTIFY_RETRY_MAX_DELAY: 3_600_000, FIRST_DELAY_MS: 2_000 } as const;

export type RetryDecision = { readonly at: Date } | { readonly giveUp: string };

/**
 * After failed attempt number `attempts` (1-based) of a row first tried at `firstAttemptAt`:
 * the next attempt's time, or why to give up. The delay is 2^(attempts-1) × first, capped, then
 * jittered to between half and all of it (so rows failed together by one outage do not retry in
 * lockstep); a longer Retry-After wins. The last attempt is placed at the end of the window.
 */
export function nextRetry(
  policy: RetryPolicy,
  attempts: number,
  firstAttemptAt: Date,
  now: Date,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): RetryDecision {
  const deadline = firstAttemptAt.getTime() + policy.forMs;
  if (now.getTime() >= deadline) {
    return { giveUp: `gave up after ${attempts} attempts over ${Math.round((now.getTime() - firstAttemptAt.getTime()) / 60_000)} min` };
  }
  const capped = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** Math.min(40, Math.max(0, attempts - 1)));
  const jittered = capped / 2 + random() * (capped / 2);
  const wanted = Math.max(retryAfterMs ?? 0, jittered);
  const latest = Math.max(deadline, now.getTime() + (retryAfterMs ?? 0));
  return { at: new Date(Math.min(now.getTime() + wanted, latest)) };
}
