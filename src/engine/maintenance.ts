import type { Agenda, JobParameters, JobsOverview, JobState } from 'agenda';

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
  /**
   * A job of this name whose data matches will still run (queued, retrying, or paused by the
   * operator: a paused job waits) or is running.
   */
  hasLiveJob(name: JobName, data: Readonly<Record<string, unknown>>): Promise<boolean>;
  /**
   * Release every lock held by one worker (Agenda's process name, the rows' lastModifiedBy): its
   * process is gone (stale) or stopping. A job it was running has no next run, so it is made due
   * now. Returns the locks released.
   */
  releaseLocksOf(worker: string, now: Date): Promise<number>;
  /** Pause: every stored job of these names is disabled (skipped by every worker's lock query). */
  disableJobs(names: readonly JobName[]): Promise<number>;
  /** Resume: enable every stored job of these names (due ones start at once). */
  enableJobs(names: readonly JobName[]): Promise<number>;
  /**
   * Remove the jobs of this name that wait to run (queued, scheduled, retrying, paused; not
   * running, not repeating) and return their payloads, so the caller can settle what they were for.
   */
  removeWaiting(name: JobName): Promise<Array<Readonly<Record<string, unknown>>>>;
  /** Per job name: total and count in each state (queued, running, failed, paused…). */
  overview(): Promise<JobsOverview[]>;
  /** Jobs of a name (or all) in one state, newest first, at most `limit`. */
  listJobs(query: { name?: JobName | undefined; state: JobState; limit: number }): Promise<JobView[]>;
}

/** A stored job as operators see it. */
export interface JobView {
  readonly id: string;
  readonly name: string;
  readonly data: unknown;
  readonly state: JobState;
  readonly disabled: boolean;
  readonly nextRunAt: Date | null;
  readonly lockedAt: Date | null;
  readonly lockedBy: string | null;
  readonly lastRunAt: Date | null;
  readonly failedAt: Date | null;
  readonly failCount: number;
  readonly failReason: string | null;
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
      return jobs.some((j) => j.nextRunAt != null || j.lockedAt != null);
    },
    async releaseLocksOf(worker, now) {
      let released = 0;
      for (const name of lockLifetimes.keys()) {
        const { jobs } = await agenda.queryJobs({ name, state: 'running' });
        const held = jobs.filter((j) => j.lockedAt && j.lastModifiedBy === worker);
        for (const job of held) {
          if (!job.nextRunAt) await agenda.db.saveJob({ ...job, nextRunAt: now }, { lastModifiedBy: agenda.attrs.name || undefined });
        }
        if (held.length > 0) {
          await agenda.db.unlockJobs(held.map((j) => j._id));
          released += held.length;
        }
      }
      return released;
    },
    disableJobs: (names) => (names.length === 0 ? Promise.resolve(0) : agenda.disable({ names: [...names] })),
    enableJobs: (names) => (names.length === 0 ? Promise.resolve(0) : agenda.enable({ names: [...names] })),
    async removeWaiting(name) {
      const { jobs } = await agenda.queryJobs({ name });
      const waiting = jobs.filter((j) => !j.lockedAt && j.nextRunAt != null && !j.repeatInterval && !j.repeatAt && j.type !== 'single');
      for (let i = 0; i < waiting.length; i += REMOVE_CHUNK) {
        await agenda.db.removeJobs({ ids: waiting.slice(i, i + REMOVE_CHUNK).map((j) => j._id) });
      }
      return waiting.map((j) => (j.data ?? {}) as Record<string, unknown>);
    },
    overview: () => agenda.getJobsOverview(),
    async listJobs({ name, state, limit }) {
      const { jobs } = await agenda.queryJobs({ ...(name ? { name } : {}), state, limit, sort: { lastRunAt: 'desc' } });
      return jobs.map((j) => ({
        id: String(j._id),
        name: j.name,
        data: j.data,
        state: j.state,
        disabled: j.disabled === true,
        nextRunAt: j.nextRunAt ?? null,
        lockedAt: j.lockedAt ?? null,
        lockedBy: j.lockedAt ? (j.lastModifiedBy ?? null) : null,
        lastRunAt: j.lastRunAt ?? null,
        failedAt: j.failedAt ?? null,
        failCount: j.failCount ?? 0,
        failReason: j.failReason ?? null,
      }));
    },
  };
}
