import type { Config } from '../config.js';
import type { Engine } from '../engine/engine.js';
import type { JobName } from '../engine/payloads.js';
import type { Logger } from '../logger.js';
import type { NotifyHub } from '../notify/hub.js';
import { type DeadFilter, retryDeadNotifications, retryNotification } from '../notify/retry.js';
import type { FileFilter } from '../store/ops-types.js';
import type { StepName, Store } from '../store/types.js';
import { type Progress, purgeJobs, reprocessFileIds, reprocessFiles } from './bulk.js';
import { type Controls, createControls } from './controls.js';
import { type OpsStats, opsStats } from './stats.js';

export type { Progress } from './bulk.js';
export { PURGED_REASON } from './bulk.js';
export type { Controls, PauseTarget } from './controls.js';
export type { OpsStats } from './stats.js';

export interface OperationsDeps {
  readonly config: Config;
  readonly store: Store;
  readonly engine: Engine;
  readonly notify: NotifyHub;
  readonly steps: readonly StepName[];
  readonly log: Logger;
}

/**
 * What operators reach for, in one place for the HTTP API and the CLI: controls (pauses,
 * schedules), bulk work (reprocess, purge, retry dead notifications) and the numbers.
 */
export interface Operations {
  readonly controls: Controls;
  reprocess(filter: FileFilter, onProgress?: Progress): Promise<number>;
  /** Reprocess these files by id (busy ones are skipped); returns the files enqueued. */
  reprocessIds(ids: readonly string[], onProgress?: Progress): Promise<number>;
  purge(job: JobName, onProgress?: Progress): Promise<{ purged: number; filesFailed: number }>;
  retryNotification: (id: string) => ReturnType<typeof retryNotification>;
  retryDead(filter: DeadFilter, onProgress?: Progress): Promise<number>;
  stats(): Promise<OpsStats>;
  /** Every job name of the registry. */
  readonly jobNames: readonly JobName[];
  /** The processing steps, in the registry's order. */
  readonly steps: readonly StepName[];
  readonly engine: Engine;
}

export function createOperations(deps: OperationsDeps): Operations {
  const jobNames = Object.keys(deps.config.jobs) as JobName[];
  const pipelineJobs = pipelineJobNames(deps.steps);
  const controls = createControls({ store: deps.store, engine: deps.engine, config: deps.config, pipelineJobs, jobNames });
  const bulk = { ...deps };
  return {
    controls,
    jobNames,
    steps: deps.steps,
    engine: deps.engine,
    reprocess: (filter, onProgress) => reprocessFiles(bulk, filter, onProgress),
    reprocessIds: (ids, onProgress) => reprocessFileIds(bulk, ids, onProgress),
    purge: (job, onProgress) => purgeJobs(bulk, job, onProgress),
    retryNotification: (id) => retryNotification(deps.store, deps.engine.enqueue, id),
    retryDead: (filter, onProgress) => retryDeadNotifications(deps.store, deps.engine.enqueue, filter, onProgress),
    stats: () => opsStats(deps.store, deps.engine, jobNames),
  };
}

/** process-file and the steps: what the `pipeline` control pauses. */
export const pipelineJobNames = (steps: readonly StepName[]): JobName[] => ['process-file', ...steps];
