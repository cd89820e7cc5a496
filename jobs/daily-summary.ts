import { z } from 'zod';

import { defineJob } from '../src/engine/job.js';
import { runDailySummary } from '../src/summary/run.js';

/** Empty when run by the schedule; `manual`: run now by an operator. */
const Payload = z.object({ manual: z.boolean().optional() }).strict();

declare module '../src/engine/payloads.js' {
  interface JobPayloads {
    'daily-summary': z.infer<typeof Payload>;
  }
}

/**
 * Daily summaries: each owner's at SUMMARY_LOCAL_TIME in the owner's timezone, the all-owners
 * one at that time in SUMMARY_TIMEZONE. The schedule runs it often (hourly); each run sends
 * whatever is due and not yet sent, so it is right however late, often or concurrently it runs.
 */
export default defineJob({
  name: 'daily-summary',
  description: "each owner's daily summary at SUMMARY_LOCAL_TIME in their timezone, and the all-owners report",
  payload: Payload,
  defaults: { concurrency: 1, attempts: 3, backoffMs: 60_000, timeoutMs: 15 * 60_000 },
  // Hourly at minute 5: each run sends the summaries of owners whose SUMMARY_LOCAL_TIME has passed.
  schedule: { every: '5 * * * *', description: 'hourly; sends what is due' },
  async handler(ctx) {
    const started = performance.now();
    const result = await runDailySummary(ctx.services, new Date(), ctx.log, ctx.signal, () => ctx.heartbeat());
    ctx.log.info({ ...result, ms: Math.round(performance.now() - started) }, 'daily summary run');
    return { ...result };
  },
});
