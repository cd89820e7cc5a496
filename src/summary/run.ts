import type { JobServices } from '../engine/job.js';
import type { Logger } from '../logger.js';
import { notificationId, notificationKey } from '../store/outbox-keys.js';
import type { Owner } from '../store/owner-types.js';
import { renderChartPng } from './chart.js';
import { buildReport, hasActivity, summaryPayload } from './report.js';
import { dueWindow, type SummaryWindow } from './time.js';

/** What one run did: the job's result, logged at the end of every run. */
export interface DailySummaryResult {
  /** Owners with activity in the last 48 h (every timezone's window lies inside), plus the all-owners report. */
  considered: number;
  /** Summaries emitted now (each to all its recipients). */
  sent: number;
  /** Summaries already queued or sent for that date (an earlier, concurrent or repeated run). */
  skippedAlreadySent: number;
  /** Nothing uploaded or finished in the window: no message. */
  skippedNoActivity: number;
  /** The rules route this summary to nobody (e.g. no admins configured). */
  skippedNoRecipients: number;
}

const LOOKBACK_MS = 48 * 3_600_000;

/**
 * One run of `daily-summary`: for each owner whose local clock has passed SUMMARY_LOCAL_TIME,
 * the summary of the 24 hours before that time today (or yesterday, before it), and the same
 * for everyone in SUMMARY_TIMEZONE. Safe at any frequency and in any number of processes: the
 * outbox's idempotency key `summary.daily|owner:date|channel|recipient` lets one row per
 * recipient and date exist, so a repeated, late or concurrent run sends nothing twice. The
 * pre-check only saves rendering a chart that would be dropped.
 */
export async function runDailySummary(
  services: JobServices,
  now: Date,
  log: Logger,
  signal?: AbortSignal,
  heartbeat?: () => Promise<void>,
): Promise<DailySummaryResult> {
  const { config, store } = services;
  const result: DailySummaryResult = { considered: 0, sent: 0, skippedAlreadySent: 0, skippedNoActivity: 0, skippedNoRecipients: 0 };
  const [active, owners] = await Promise.all([store.reports.ownersWithActivity(new Date(now.getTime() - LOOKBACK_MS), now), store.owners.list()]);
  const byId = new Map(owners.map((o) => [o.id, o]));

  const jobs: Array<{ owner: Owner | null; ownerId: string | null; window: SummaryWindow }> = active.map((id) => {
    const owner = byId.get(id) ?? null;
    return { owner, ownerId: id, window: dueWindow(now, config.summaryLocalTime, owner?.timezone ?? 'UTC') };
  });
  jobs.push({ owner: null, ownerId: null, window: dueWindow(now, config.summaryLocalTime, config.summaryTimeZone) });

  for (const [i, job] of jobs.entries()) {
    signal?.throwIfAborted();
    if (i % 50 === 49) await heartbeat?.();
    result.considered++;
    const outcome = await summarizeOne(services, job.owner, job.ownerId, job.window);
    if (outcome === 'sent') result.sent++;
    else if (outcome === 'already-sent') result.skippedAlreadySent++;
    else if (outcome === 'no-activity') result.skippedNoActivity++;
    else result.skippedNoRecipients++;
    if (outcome === 'sent') log.debug({ owner: job.ownerId ?? '*', date: job.window.date }, 'daily summary queued');
  }
  return result;
}

type Outcome = 'sent' | 'already-sent' | 'no-activity' | 'no-recipients';

async function summarizeOne(services: JobServices, owner: Owner | null, ownerId: string | null, window: SummaryWindow): Promise<Outcome> {
  const { store, notify } = services;
  const targets = await notify.targets('summary.daily', owner, ownerId, { forAdmins: ownerId === null });
  if (targets.length === 0) return 'no-recipients';
  // The hub's key layout (src/notify/hub.ts): the row ids tell whether this date went out already.
  const subject = `${ownerId ?? '*'}:${window.date}`;
  const existing = await Promise.all(targets.map((t) => store.outbox.get(notificationId(notificationKey('summary.daily', subject, t.channel, t.recipient)))));
  if (existing.every((row) => row !== null)) return 'already-sent';

  const report = await buildReport(store, ownerId, window);
  if (!hasActivity(report)) return 'no-activity';
  const png = await renderChartPng(report);
  const created = await notify.emit('summary.daily', summaryPayload(report, { png, url: notify.links.chart(ownerId, window.date) }));
  return created.length > 0 ? 'sent' : 'already-sent';
}
