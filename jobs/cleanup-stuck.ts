import { z } from 'zod';

import { purgeOrphanBlobs } from '../src/cleanup/blobs.js';
import { requeueLostWork } from '../src/cleanup/lost.js';
import { recoverStuckSteps, type StepLimits } from '../src/cleanup/stuck.js';
import { defineJob } from '../src/engine/job.js';
import type { StepName } from '../src/store/types.js';

/** Empty when run by the schedule; `manual`: run now by an operator. */
const Payload = z.object({ manual: z.boolean().optional() }).strict();

declare module '../src/engine/payloads.js' {
  interface JobPayloads {
    'cleanup-stuck': z.infer<typeof Payload>;
  }
}

const DAY_MS = 86_400_000;

/**
 * Hourly housekeeping: recover or fail stuck files, re-enqueue work whose job was lost, release
 * locks of dead workers, purge old job records, delivery-log rows, job runs and orphaned blobs.
 * Returns its counts (recorded by the schedule's run record and logged).
 */
export default defineJob({
  name: 'cleanup-stuck',
  description: 'recovers stuck and lost work, releases dead locks, purges old records and orphaned blobs',
  payload: Payload,
  defaults: { concurrency: 1, attempts: 2, backoffMs: 60_000, timeoutMs: 15 * 60_000 },
  schedule: { every: '0 * * * *', description: 'hourly' },
  async handler(ctx) {
    const { config, store, blobs, maintenance, steps } = ctx.services;
    const now = new Date();
    const limits = Object.fromEntries(steps.map((name) => [name, { timeoutMs: config.jobs[name].timeoutMs, attempts: config.jobs[name].attempts }])) as Record<
      StepName,
      StepLimits
    >;
    const jobsBefore = new Date(now.getTime() - config.retention.jobsDays * DAY_MS);
    const locks = await maintenance.releaseDeadLocks(now);
    const jobsPurged = await maintenance.purgeFinished(jobsBefore);
    await ctx.heartbeat();
    const stuck = await recoverStuckSteps(ctx.services, limits, locks.deadFileJobs, now, ctx.log);
    await ctx.heartbeat();
    const lostRequeued = await requeueLostWork(ctx.services, now, ctx.log);
    await ctx.heartbeat();
    const notificationsPurged = await store.outbox.purge(new Date(now.getTime() - config.retention.notificationsDays * DAY_MS));
    const runsPurged = await store.runs.purge(jobsBefore);
    const blobsPurged = await purgeOrphanBlobs(blobs, store.reports, new Date(now.getTime() - config.retention.orphanBlobHours * 3_600_000), ctx.signal);
    const counts = {
      reEnqueued: stuck.reEnqueued,
      failedStuck: stuck.failedStuck,
      lostRequeued,
      locksReleased: locks.released,
      jobsPurged,
      notificationsPurged,
      runsPurged,
      blobsPurged,
    };
    ctx.log.info({ counts }, 'cleanup-stuck done');
    // The run record wrapper (src/schedules/runs.ts) stores these counts.
    return counts;
  },
});
