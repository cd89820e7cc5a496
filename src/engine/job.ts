import type { z } from 'zod';

import type { BlobStore } from '../blobs/types.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { NotifyHub } from '../notify/hub.js';
import type { StepName, Store } from '../store/types.js';
import type { EngineMaintenance } from './maintenance.js';
import type { JobDefaults, JobOptions } from './options.js';
import type { Enqueue, JobName, JobPayloads } from './payloads.js';

export { defaultOptions, type JobDefaults, type JobOptions, lockLifetimeMs } from './options.js';
export type { Enqueue, EnqueueOptions, JobName, JobPayloads } from './payloads.js';

/**
 * Glossary.
 * - job: a named kind of background work with one definition in jobs/ (`ocr`, `daily-summary`).
 * - run / attempt: one execution of one queued job; a job that fails is retried as a new attempt.
 * - step: a job that works on one file (analyze, thumbnail, ocr) and records its result on it.
 * - periodic job: a job with a schedule (cron or interval), run once per occurrence.
 * - worker: a process that runs jobs (`--role worker|all`), possibly only some (`--jobs`).
 */

/** What the core lends every job run. */
export interface JobServices {
  readonly config: Config;
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly enqueue: Enqueue;
  readonly notify: NotifyHub;
  /** Engine-owned housekeeping: dead locks, finished records, live jobs of a name. */
  readonly maintenance: EngineMaintenance;
  /** The processing steps of the registry, in order: what process-file fans out. */
  readonly steps: readonly StepName[];
}

/** What a job did, as counts: periodic jobs' results are stored with their run and logged. */
export type JobCounts = Readonly<Record<string, number>>;

export interface JobContext<N extends JobName = JobName> {
  readonly jobId: string;
  readonly name: N;
  readonly data: JobPayloads[N];
  /** 1-based number of this attempt. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** The options this process runs the job with (defaults overridden by JOB_<NAME>_* config). */
  readonly options: JobOptions;
  /** Child logger bound to job name, job id and the payload's fileId. */
  readonly log: Logger;
  /**
   * Fires at the soft time limit, at the hard one and on shutdown: handlers pass it to
   * everything slow, so they can stop cleanly before the hard limit ends the attempt.
   */
  readonly signal: AbortSignal;
  /**
   * Fires at the hard time limit (and on a forced shutdown): the attempt is over and its
   * result will not be recorded. Work running outside this thread (a pool worker) is
   * terminated on it.
   */
  readonly hardSignal: AbortSignal;
  /** Tell the engine (and the store, for steps) the job is alive; extends the lock. progress 0..100. */
  heartbeat(progress?: number): Promise<void>;
  /** The attempt's time limits, for work that first waits for a resource outside the attempt. */
  readonly clock: AttemptClock;
  readonly services: JobServices;
}

/**
 * The soft and hard limits measure the attempt's own work. A step whose work waits for a pool
 * worker (a free slot, a thread starting up, its models loading) holds the clock while it waits
 * and restarts it when the work begins, so a file queued behind a hostile one is not failed for
 * the time it spent waiting. A wait that never ends is still ended by a backstop.
 */
export interface AttemptClock {
  /** Stop both limits until restart(); a backstop of the hard limit plus a minute still applies. */
  hold(): void;
  /** Both limits count from now. */
  restart(): void;
}

/** What a job's `open` hook gets: it may start pools sized from its options. */
export interface JobOpenContext {
  readonly config: Config;
  readonly options: JobOptions;
  readonly log: Logger;
}

export interface JobDefinition<N extends JobName = JobName> {
  readonly name: N;
  /** One line for `--help`, the README and the console. */
  readonly description: string;
  /**
   * Schema of the payload; the payload type is inferred from it. A payload that does not
   * match fails the attempt for good (PAYLOAD_INVALID) with the schema's message.
   */
  readonly payload: z.ZodType<JobPayloads[N]>;
  readonly defaults: JobDefaults;
  /**
   * Periodic jobs only: the default schedule (cron, ms or interval; SCHEDULE_<NAME> overrides)
   * and what it is for.
   */
  readonly schedule?: { readonly every: string; readonly description: string } | undefined;
  /** Called once before the worker takes work, in processes that run this job. */
  open?(ctx: JobOpenContext): Promise<void>;
  /** Called once at shutdown, after the engine drained; releases what `open` started. */
  close?(): Promise<void>;
  handler(ctx: JobContext<N>): Promise<void | JobCounts>;
  /**
   * Called once after the last attempt failed (attempts exhausted, or a PermanentError),
   * before the engine records the failure. Errors thrown here are logged, not retried.
   */
  onFailed?(ctx: JobContext<N>, error: Error): Promise<void>;
}

/** Any job's definition, for lists; the payload is checked by each definition's own schema. */
export type AnyJobDefinition = { readonly [N in JobName]: JobDefinition<N> }[JobName];

/** Identity helper that keeps the job name literal, so the payload type follows it. */
export function defineJob<N extends JobName>(definition: JobDefinition<N>): JobDefinition<N> {
  return definition;
}
