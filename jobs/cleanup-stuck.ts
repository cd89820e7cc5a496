import { defineJob } from '../src/engine/job.js';
import type { StepName } from '../src/store/types.js';
import analyze from './analyze.js';
import { purgeOrphanBlobs } from '../src/cleanup/blobs.js';
import { requeueLostWork } from '../src/cleanup/lost.js';
import { sweepJobRecords } from '../src/cleanup/records.js';
import { recoverStuckSteps, type StepLimits } from '../src/cleanup/stuck.js';
import ocr from './ocr.js';
import thumbnail from './thumbnail.js';

const DAY_MS = 86_400_000;
const LIMITS: Record<StepName, StepLimits> = Object.fromEntries(
  [analyze, thumbnail, ocr].map((d) => [d.name, { timeoutMs: d.timeoutMs, attempts: d.attempts }]),
) as Record<StepName, StepLimits>;

/**
 * Hourly housekeeping: recover or fail stuck files, re-enqueue work whose job was lost, release
 * locks of dead workers, purge old
 * job records, delivery-log rows, job runs and orphaned blobs. Returns its counts (recorded
 * by the schedule's run record and logged).
 */
export default defineJob({
  name: 'cleanup-stuck',
  concurrency: 1,
  attempts: 2,
  backoffMs: 60_000,
  timeoutMs: 15 * 60_000,
  async handler(ctx) {
    const { config, store, blobs } = ctx.services;
    const now = new Date();
    const agenda = ctx.services.agenda;
    const jobsBefore = new Date(now.getTime() - config.retention.jobsDays * DAY_MS);
    const records = await sweepJobRecords(agenda, jobsBefore, now);
    await ctx.heartbeat();
    const stuck = await recoverStuckSteps(ctx.services, LIMITS, records.deadFileJobs, now, ctx.log);
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
      locksReleased: records.locksReleased,
      jobsPurged: records.jobsPurged,
      notificationsPurged,
      runsPurged,
      blobsPurged,
    };
    ctx.log.info({ counts }, 'cleanup-stuck done');
    // The run record wrapper (src/schedules/runs.ts) stores these counts.
    return counts;
  },
});
