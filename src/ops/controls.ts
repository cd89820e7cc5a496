import type { Config } from '../config.js';
import type { Engine } from '../engine/engine.js';
import type { JobName } from '../engine/payloads.js';
import { ErrorCodes, NightshiftError } from '../errors.js';
import { findScheduleJob } from '../schedules/sync.js';
import type { Store } from '../store/types.js';
import { jobControlKey, type PauseSet, PIPELINE, readPauses, scheduleControlKey } from './pauses.js';

export interface ControlDeps {
  readonly store: Store;
  readonly engine: Engine;
  readonly config: Config;
  /** process-file and every step: what `pipeline` pauses. */
  readonly pipelineJobs: readonly JobName[];
  /** Every job name of the registry. */
  readonly jobNames: readonly JobName[];
}

/** What a pause or resume targets: one job type, or the whole pipeline (no job). */
export interface PauseTarget {
  readonly job?: JobName | undefined;
}

/**
 * The operator's controls, stored so every worker obeys them and they survive restarts:
 * a paused job type keeps its jobs (disabled rows wait, nothing is lost, uploads are still
 * accepted); a paused schedule keeps its cron but does not fire.
 */
export function createControls(deps: ControlDeps) {
  const { store, engine, config } = deps;
  const pauses = () => readPauses(store.controls, deps.pipelineJobs);
  const checkJob = (job: string): JobName => {
    if (!deps.jobNames.includes(job as JobName)) {
      throw new NightshiftError(ErrorCodes.NOT_FOUND, `no job named ${JSON.stringify(job)} (jobs: ${deps.jobNames.join(', ')})`, { status: 404 });
    }
    return job as JobName;
  };
  const checkSchedule = (name: string) => {
    const s = config.schedules.find((x) => x.job === name);
    if (!s)
      throw new NightshiftError(
        ErrorCodes.NOT_FOUND,
        `no schedule named ${JSON.stringify(name)} (schedules: ${config.schedules.map((x) => x.job).join(', ')})`,
        { status: 404 },
      );
    return s;
  };

  /** Disable the stored rows of every paused job and schedule (workers re-run this on each heartbeat). */
  async function apply(set?: PauseSet): Promise<PauseSet> {
    const p = set ?? (await pauses());
    await engine.maintenance.disableJobs([...p.jobs]);
    for (const name of p.schedules) {
      const row = await findScheduleJob(engine.agenda, name);
      if (row && !row.disabled) await engine.agenda.disable({ id: row._id! });
    }
    return p;
  }

  /** Enable a schedule's row unless it is paused (itself or with its job) or configured off. */
  async function enableSchedule(name: JobName, p: PauseSet): Promise<void> {
    const s = config.schedules.find((x) => x.job === name);
    if (!s || s.every === null || p.schedules.has(name)) return;
    const row = await findScheduleJob(engine.agenda, name);
    if (row?.disabled) await engine.agenda.enable({ id: row._id! });
  }

  return {
    pauses,
    apply,
    async pause(target: PauseTarget, by: string | null): Promise<PauseSet> {
      await store.controls.set(target.job ? jobControlKey(checkJob(target.job)) : PIPELINE, by, new Date());
      return apply();
    },
    async resume(target: PauseTarget): Promise<PauseSet> {
      const names = target.job ? [checkJob(target.job)] : deps.pipelineJobs;
      await store.controls.clear(target.job ? jobControlKey(target.job) : PIPELINE);
      const p = await pauses();
      const release = names.filter((n) => !p.jobs.has(n));
      await engine.maintenance.enableJobs(release);
      // Enabling a periodic job's rows enabled its schedule row too: disable it again if that stays paused.
      await apply(p);
      for (const n of release) await enableSchedule(n, p);
      return p;
    },
    async pauseSchedule(name: string, by: string | null): Promise<PauseSet> {
      const s = checkSchedule(name);
      await store.controls.set(scheduleControlKey(s.job), by, new Date());
      return apply();
    },
    async resumeSchedule(name: string): Promise<PauseSet> {
      const s = checkSchedule(name);
      await store.controls.clear(scheduleControlKey(s.job));
      const p = await pauses();
      await enableSchedule(s.job, p);
      return p;
    },
    /** Run a periodic job now, once, outside its schedule (recorded as a manual run). */
    async runSchedule(name: string): Promise<void> {
      const s = checkSchedule(name);
      await engine.enqueue(s.job, { manual: true });
    },
  };
}

export type Controls = ReturnType<typeof createControls>;
