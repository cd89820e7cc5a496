import type { JobName } from '../engine/payloads.js';
import type { Control, ControlRepo } from '../store/ops-types.js';

/** The stored control keys (see ControlRepo). */
export const PIPELINE = 'pipeline';
export const jobControlKey = (job: string): string => `job:${job}`;
export const scheduleControlKey = (job: string): string => `schedule:${job}`;

/** How long a worker's enqueue trusts its copy of the pause set, ms. */
const CACHE_MS = 1_000;

export interface PauseSet {
  /** Job names paused now: each `job:<name>`, plus process-file and the steps under `pipeline`. */
  readonly jobs: ReadonlySet<JobName>;
  /** Periodic jobs whose schedule is paused (`schedule:<name>`, or the job itself paused). */
  readonly schedules: ReadonlySet<JobName>;
  readonly pipeline: boolean;
  readonly controls: readonly Control[];
}

/** Read the stored controls as sets of paused names. `pipelineJobs`: process-file and the steps. */
export async function readPauses(controls: ControlRepo, pipelineJobs: readonly JobName[]): Promise<PauseSet> {
  const list = await controls.list();
  const keys = new Set(list.map((c) => c.key));
  const pipeline = keys.has(PIPELINE);
  const jobs = new Set<JobName>();
  const schedules = new Set<JobName>();
  for (const c of list) {
    if (c.key.startsWith('job:')) jobs.add(c.key.slice(4) as JobName);
    if (c.key.startsWith('schedule:')) schedules.add(c.key.slice(9) as JobName);
  }
  if (pipeline) for (const j of pipelineJobs) jobs.add(j);
  for (const j of jobs) schedules.add(j);
  return { jobs, schedules, pipeline, controls: list };
}

/**
 * The paused job names for the engine's enqueue, cached for a second: an enqueue right after a
 * pause may still store an enabled job, and every worker's heartbeat disables it again.
 */
export function pausedJobsCache(
  controls: ControlRepo,
  pipelineJobs: readonly JobName[],
): { readonly get: () => Promise<ReadonlySet<string>>; readonly invalidate: () => void } {
  let cached: { at: number; jobs: ReadonlySet<string> } | undefined;
  return {
    async get() {
      if (cached && Date.now() - cached.at < CACHE_MS) return cached.jobs;
      const { jobs } = await readPauses(controls, pipelineJobs);
      cached = { at: Date.now(), jobs };
      return jobs;
    },
    invalidate() {
      cached = undefined;
    },
  };
}
