import { defineJob } from '../src/engine/job.js';
import { runDailySummary } from '../src/summary/run.js';

/**
 * Daily summaries: each owner's at SUMMARY_LOCAL_TIME in the owner's timezone, the all-owners
 * one at that time in SUMMARY_TIMEZONE. The schedule runs it often (hourly); each run sends
 * whatever is due and not yet sent, so it is right however late, often or concurrently it runs.
 */
export default defineJob({
  name: 'daily-summary',
  concurrency: 1,
  attempts: 3,
  backoffMs: 60_000,
  timeoutMs: 15 * 60_000,
  async handler(ctx) {
    const started = performance.now();
    const result = await runDailySummary(ctx.services, new Date(), ctx.log, ctx.signal, () => ctx.heartbeat());
    ctx.log.info({ ...result, ms: Math.round(performance.now() - started) }, 'daily summary run');
    return { ...result };
  },
});
