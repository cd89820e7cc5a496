import { escapeHtml, formatBytes, formatMs } from '../format.js';
import type { EventPayloads } from '../notify/events.js';
import type { Store } from '../store/types.js';
import type { SummaryWindow } from './time.js';

/**
 * The numbers of one daily summary, as the job sends them and as
 * `GET /api/v1/summaries/:owner?date=` answers them (JSON-safe: dates are ISO strings).
 */
export interface SummaryReport {
  /** null: every owner (the admins' report). */
  readonly owner: string | null;
  /** Local date the summary is for, YYYY-MM-DD. */
  readonly date: string;
  readonly timeZone: string;
  /** The 24 hours covered, [from, to), ISO. */
  readonly from: string;
  readonly to: string;
  readonly uploaded: number;
  readonly completed: number;
  readonly failed: number;
  /** completed / (completed + failed), 0..1; null when nothing finished. */
  readonly successRate: number | null;
  /** Processing time (completedAt - startedAt) of the files finished in the window, ms. */
  readonly processingMs: { readonly count: number; readonly median: number | null; readonly p95: number | null };
  /**
   * Bytes stored now (originals + derived), against the owner's quota. For the all-owners
   * report: every owner's bytes, quota null. Always the current figure, also for a past date.
   */
  readonly storage: { readonly usedBytes: number; readonly quotaBytes: number | null; readonly percent: number | null };
  readonly topFailures: ReadonlyArray<{ readonly reason: string; readonly count: number }>;
  /** Uploads and failures per hour of the window (hour = ISO start of the bucket). */
  readonly hourly: ReadonlyArray<{ readonly hour: string; readonly uploads: number; readonly failures: number }>;
}

/** Nearest-rank percentile of an ascending list; null for an empty one. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

export async function buildReport(store: Store, owner: string | null, window: SummaryWindow): Promise<SummaryReport> {
  const [activity, storage] = await Promise.all([store.reports.summarize(owner, window.from, window.to), storageOf(store, owner)]);
  const finished = activity.completed + activity.failed;
  return {
    owner,
    date: window.date,
    timeZone: window.timeZone,
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    uploaded: activity.uploaded,
    completed: activity.completed,
    failed: activity.failed,
    successRate: finished === 0 ? null : activity.completed / finished,
    processingMs: {
      count: activity.processingMs.length,
      median: percentile(activity.processingMs, 50),
      p95: percentile(activity.processingMs, 95),
    },
    storage,
    topFailures: activity.topFailures.map((t) => ({ reason: t.reason, count: t.count })),
    hourly: activity.hourly.map((h) => ({ hour: h.hour.toISOString(), uploads: h.uploads, failures: h.failures })),
  };
}

async function storageOf(store: Store, owner: string | null): Promise<SummaryReport['storage']> {
  if (owner === null) {
    let used = 0;
    for (const bytes of (await store.reports.usageByOwner()).values()) used += bytes;
    return { usedBytes: used, quotaBytes: null, percent: null };
  }
  const [used, record] = await Promise.all([store.reports.usageOf(owner), store.owners.get(owner)]);
  const quota = record?.quotaBytes ?? null;
  return { usedBytes: used, quotaBytes: quota, percent: quota === null || quota === 0 ? null : (used / quota) * 100 };
}

/** No activity, no message. */
export function hasActivity(r: SummaryReport): boolean {
  return r.uploaded + r.completed + r.failed > 0;
}

const pct = (x: number) => `${x.toFixed(1)}%`;

/** The facts every channel shows (LINE's Flex card, the email table, the console line). */
export function reportFacts(r: SummaryReport): Array<{ label: string; value: string }> {
  const storage =
    r.storage.quotaBytes === null
      ? formatBytes(r.storage.usedBytes)
      : `${formatBytes(r.storage.usedBytes)} of ${formatBytes(r.storage.quotaBytes)}${r.storage.percent === null ? '' : ` (${pct(r.storage.percent)})`}`;
  return [
    { label: 'Uploaded', value: String(r.uploaded) },
    { label: 'Completed', value: String(r.completed) },
    { label: 'Failed', value: String(r.failed) },
    { label: 'Success rate', value: r.successRate === null ? '–' : pct(r.successRate * 100) },
    { label: 'Median time', value: formatMs(r.processingMs.median) },
    { label: 'p95 time', value: formatMs(r.processingMs.p95) },
    { label: 'Storage', value: storage },
  ];
}

/** The `summary.daily` payload for a report; the chart travels inline (email) and by URL (LINE, https only). */
export function summaryPayload(r: SummaryReport, chart: { png?: Buffer | undefined; url?: string | undefined }): EventPayloads['summary.daily'] {
  const who = r.owner === null ? 'all owners' : r.owner;
  const title = `Daily summary for ${who}, ${r.date}`;
  const window = `${r.from.slice(0, 16).replace('T', ' ')} – ${r.to.slice(0, 16).replace('T', ' ')} UTC`;
  const lead = `${r.uploaded} uploaded, ${r.completed} completed, ${r.failed} failed in the 24 hours to ${r.to.slice(0, 16).replace('T', ' ')} UTC.`;
  const failures = r.topFailures.map((f) => `- ${f.reason} (${f.count})`);
  const text = [lead, ...(failures.length > 0 ? ['', 'Top failure reasons:', ...failures] : [])].join('\n');
  const html = [
    `<p>${escapeHtml(lead)}</p>`,
    `<p style="color:#666;font-size:13px">Window: ${escapeHtml(window)} (${escapeHtml(r.timeZone)} day ${escapeHtml(r.date)}). Chart: uploads and failures per hour.</p>`,
  ].join('\n');
  return {
    owner: r.owner,
    date: r.date,
    title,
    text,
    html,
    facts: reportFacts(r),
    items: r.topFailures.map((f) => ({ title: f.reason, detail: `${f.count} file${f.count === 1 ? '' : 's'}` })),
    chartPng: chart.png,
    chartUrl: chart.url,
  };
}
