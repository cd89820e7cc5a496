import type { JobServices } from './engine/job.js';
import type { Logger } from './logger.js';
import type { Store } from './store/types.js';

/** Alert thresholds, percent of the quota: 80 and 90 warn, 100 is exceeded (uploads refused). */
export const QUOTA_THRESHOLDS = [80, 90, 100] as const;
/** A fired threshold re-arms once usage is this many points below it. */
export const REARM_POINTS = 5;

/** Usage in percent of the quota; a zero quota is full from the first byte (and at zero bytes). */
export function usagePercent(usedBytes: number, quotaBytes: number): number {
  if (quotaBytes <= 0) return usedBytes > 0 ? Number.POSITIVE_INFINITY : 100;
  return (usedBytes / quotaBytes) * 100;
}

/**
 * The thresholds that stay fired at `percent`, given those fired before: a threshold fires at
 * or above its level, and stays fired (no new alert) until usage falls REARM_POINTS below it.
 * `fresh` are the ones that fire now, lowest first.
 */
export function nextAlerts(fired: readonly number[], percent: number): { next: number[]; fresh: number[] } {
  const next: number[] = [];
  const fresh: number[] = [];
  for (const t of QUOTA_THRESHOLDS) {
    const was = fired.includes(t);
    if (percent >= t) {
      next.push(t);
      if (!was) fresh.push(t);
    } else if (was && percent > t - REARM_POINTS) {
      next.push(t);
    }
  }
  return { next, fresh };
}

export interface QuotaState {
  readonly usedBytes: number;
  /** null: no quota (no owner record, or none set). */
  readonly quotaBytes: number | null;
  /** Usage at or over the quota: uploads are refused. */
  readonly exceeded: boolean;
}

/** The live figure the upload route checks before storing a body. */
export async function quotaState(store: Store, owner: string): Promise<QuotaState> {
  const record = await store.owners.get(owner);
  const quota = record?.quotaBytes ?? null;
  if (quota === null) return { usedBytes: 0, quotaBytes: null, exceeded: false };
  const used = await store.reports.usageOf(owner);
  return { usedBytes: used, quotaBytes: quota, exceeded: used >= quota };
}

export type QuotaCheckOutcome = { owner: string; percent: number | null; alerted: number | null };

/** Rounds of compare-and-set before giving up: each lost round means another check made progress. */
const CAS_ROUNDS = 5;

/**
 * Check one owner: move the fired thresholds with a compare-and-set, and only the caller whose
 * set won emits — so two concurrent checks (two uploads, two workers) alert once. Of several
 * thresholds crossed at once (80 → 100 in one upload) only the highest is announced.
 */
export async function checkOwnerQuota(
  services: Pick<JobServices, 'store' | 'notify'>,
  owner: string,
  usedBytes: number | undefined,
  log: Logger,
): Promise<QuotaCheckOutcome> {
  const { store, notify } = services;
  for (let round = 0; round < CAS_ROUNDS; round++) {
    const record = await store.owners.get(owner);
    if (!record) return { owner, percent: null, alerted: null };
    const used = round === 0 && usedBytes !== undefined ? usedBytes : await store.reports.usageOf(owner);
    const quota = record.quotaBytes;
    // No quota: nothing fires, and a list left from an earlier quota is cleared.
    const { next, fresh } = quota === null ? { next: [], fresh: [] } : nextAlerts(record.quotaAlerts, usagePercent(used, quota));
    const percent = quota === null ? null : usagePercent(used, quota);
    if (sameList(next, record.quotaAlerts)) return { owner, percent, alerted: null };
    if (!(await store.owners.casQuotaAlerts(owner, record.quotaAlerts, next))) continue;
    const top = fresh.at(-1);
    if (top === undefined || quota === null) return { owner, percent, alerted: null };
    // The crossing is identified by when it was won: re-arming and crossing again is a new alert.
    const payload = { owner, usedBytes: used, quotaBytes: quota, threshold: top, crossingId: new Date().toISOString() };
    await notify.emit(top >= 100 ? 'quota.exceeded' : 'quota.warning', payload);
    log.info({ owner, usedBytes: used, quotaBytes: quota, threshold: top }, top >= 100 ? 'quota exceeded' : 'quota warning');
    return { owner, percent, alerted: top };
  }
  log.warn({ owner }, 'quota check lost every compare-and-set round; the next check settles it');
  return { owner, percent: null, alerted: null };
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  const sorted = [...b].sort((p, q) => p - q);
  return a.length === sorted.length && a.every((x, i) => x === sorted[i]);
}
