import type { Agenda, JobParameters } from 'agenda';

/** Ids per removeJobs call. */
const REMOVE_CHUNK = 500;

export interface RecordSweep {
  /** Jobs whose lock outlived their definition's lockLifetime and were released. */
  readonly locksReleased: number;
  /** `<job name>:<fileId>` of released step jobs: their files are stuck whatever the heartbeat says. */
  readonly deadFileJobs: ReadonlySet<string>;
  /** Finished one-off job records removed. */
  readonly jobsPurged: number;
}

const isFinished = (j: JobParameters) => !j.repeatInterval && !j.repeatAt && !j.nextRunAt && !j.lockedAt && (j.lastFinishedAt ?? j.failedAt) !== undefined;

/**
 * One pass over the Agenda records of every defined job:
 * - a lock older than the definition's lockLifetime belongs to a dead worker (the engine aborts
 *   an attempt at its time limit, and a live run touches its lock), so it is released; a one-off
 *   job that died mid-run has no nextRunAt, so it is made due now or it would never run again;
 * - finished one-off jobs (no next run, not locked) whose last finish is before `finishedBefore`
 *   are removed. Repeating jobs are never removed.
 */
export async function sweepJobRecords(agenda: Agenda, finishedBefore: Date, now: Date): Promise<RecordSweep> {
  let locksReleased = 0;
  let jobsPurged = 0;
  const deadFileJobs = new Set<string>();
  for (const [name, def] of Object.entries(agenda.definitions)) {
    const { jobs } = await agenda.queryJobs({ name });
    const lockDeadline = now.getTime() - def.lockLifetime;
    const dead = jobs.filter((j) => j.lockedAt && j.lockedAt.getTime() < lockDeadline);
    for (const job of dead) {
      if (!job.nextRunAt) await agenda.db.saveJob({ ...job, nextRunAt: now }, { lastModifiedBy: agenda.attrs.name || undefined });
      const fileId = (job.data as { fileId?: unknown } | undefined)?.fileId;
      if (typeof fileId === 'string') deadFileJobs.add(`${name}:${fileId}`);
    }
    if (dead.length > 0) {
      await agenda.db.unlockJobs(dead.map((j) => j._id));
      locksReleased += dead.length;
    }
    const old = jobs.filter((j) => isFinished(j) && (j.lastFinishedAt ?? j.failedAt)!.getTime() < finishedBefore.getTime());
    for (let i = 0; i < old.length; i += REMOVE_CHUNK) {
      jobsPurged += await agenda.db.removeJobs({ ids: old.slice(i, i + REMOVE_CHUNK).map((j) => j._id) });
    }
  }
  return { locksReleased, deadFileJobs, jobsPurged };
}
