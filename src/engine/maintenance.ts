import type { Agenda, JobParameters } from 'agenda';

import type { JobName } from './payloads.js';

/** Ids per removeJobs call. */
const REMOVE_CHUNK = 500;

export interface LockSweep {
  /** Jobs whose lock outlived their job's lock lifetime and were released. */
  readonly released: number;
  /** `<job name>:<fileId>` of released jobs: their files are stuck whatever the heartbeat says. */
  readonly deadFileJobs: ReadonlySet<string>;
}

/**
 * Engine-owned operations for housekeeping, so jobs never touch the engine's records or its
 * backend: every backend implements the repository calls these use.
 */
export interface EngineMaintenance {
  /**
   * Release every lock older than its job's lock lifetime (its worker is dead). A one-off job
   * that died mid-run has no next run, so it is made due now, or it would never run again.
   */
  releaseDeadLocks(now: Date): Promise<LockSweep>;
  /** Remove finished one-off job records (no next run, not locked) last finished before `before`. */
  purgeFinished(before: Date): Promise<number>;
  /** A job of this name whose data matches will still run (queued, retrying) or is running. */
  hasLiveJob(name: JobName, data: Readonly<Record<string, unknown>>): Promise<boolean>;
}

const isFinished = (j: JobParameters) => !j.repeatInterval && !j.repeatAt && !j.nextRunAt && !j.lockedAt && (j.lastFinishedAt ?? j.failedAt) !== undefined;

/** Maintenance over every registered job (served by this process or not), with its lock lifetime. */
export function createMaintenance(agenda: Agenda, lockLifetimes: ReadonlyMap<JobName, number>): EngineMaintenance {
  return {
    async releaseDeadLocks(now) {
      let released = 0;
      const deadFileJobs = new Set<string>();
      for (const [name, lifetime] of lockLifetimes) {
        const { jobs } = await agenda.queryJobs({ name });
        const deadline = now.getTime() - lifetime;
        const dead = jobs.filter((j) => j.lockedAt && j.lockedAt.getTime() < deadline);
        for (const job of dead) {
          if (!job.nextRunAt) await agenda.db.saveJob({ ...job, nextRunAt: now }, { lastModifiedBy: agenda.attrs.name || undefined });
          const fileId = (job.data as { fileId?: unknown } | undefined)?.fileId;
          if (typeof fileId === 'string') deadFileJobs.add(`${name}:${fileId}`);
        }
        if (dead.length > 0) {
          await agenda.db.unlockJobs(dead.map((j) => j._id));
          released += dead.length;
        }
      }
      return { released, deadFileJobs };
    },
    async purgeFinished(before) {
      let purged = 0;
      for (const name of lockLifetimes.keys()) {
        const { jobs } = await agenda.queryJobs({ name });
        const old = jobs.filter((j) => isFinished(j) && (j.lastFinishedAt ?? j.failedAt)!.getTime() < before.getTime());
        for (let i = 0; i < old.length; i += REMOVE_CHUNK) {
          purged += await agenda.db.removeJobs({ ids: old.slice(i, i + REMOVE_CHUNK).map((j) => j._id) });
        }
      }
      return purged;
    },
    async hasLiveJob(name, data) {
      const { jobs } = await agenda.queryJobs({ name, data: { ...data }, limit: 20 });
      return jobs.some((j) => !j.disabled && (j.nextRunAt != null || j.lockedAt != null));
    },
  };
}
