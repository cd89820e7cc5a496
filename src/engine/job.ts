import type { z } from 'zod';

import type { BlobStore } from '../blobs/types.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { NotifyHub } from '../notify/hub.js';
import type { ChannelName } from '../notify/notifier.js';
import type { StepName, Store } from '../store/types.js';
import type { EngineMaintenance } from './maintenance.js';

/**
 * Glossary.
 * - job: a named kind of background work with one definition in jobs/ (`ocr`, `daily-summary`).
 * - run / attempt: one execution of one queued job; a job that fails is retried as a new attempt.
 * - step: a job that works on one file (analyze, thumbnail, ocr) and records its result on it.
 * - periodic job: a job with a schedule (cron or interval), run once per occurrence.
 * - worker: a process that runs jobs (`--role worker|all`), possibly only some (`--jobs`).
 */

/** Every processing step's job takes the file it works on (see src/pipeline/step.ts). */
type StepPayloads = { readonly [N in StepName]: { fileId: string } };
/** One delivery job per channel takes the outbox row it sends (see src/notify/delivery.ts). */
type DeliveryPayloads = { readonly [C in ChannelName as `deliver-${C}`]: { notificationId: string } };

/**
 * Payload of every job, keyed by job name. Each job file adds its own entry, inferred from its
 * payload schema (`declare module '…/engine/job.js' { interface JobPayloads { 'quota-check': … } }`),
 * and every step is in it by its name, so `enqueue('thumbnail', { fileId })` is type-checked
 * and the map is never written twice.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface JobPayloads extends StepPayloads, DeliveryPayloads {}
export type JobName = keyof JobPayloads & string;

export interface EnqueueOptions {
  /** Run at this time instead of now. */
  readonly runAt?: Date | undefined;
  /**
   * Payload field that identifies the job: enqueueing again with the same value updates the
   * one existing job (its run time) instead of adding another.
   */
  readonly uniqueBy?: string | undefined;
}

export type Enqueue = <N extends JobName>(name: N, payload: JobPayloads[N], options?: EnqueueOptions) => Promise<void>;

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
  readonly services: JobServices;
}

/**
 * How a job runs. Each key can be overridden per job by JOB_<NAME>_<KEY> (e.g.
 * JOB_OCR_CONCURRENCY), validated at start-up.
 */
export interface JobOptions {
  /** Runs of this job at once in one process. */
  readonly concurrency: number;
  /** Attempts in all, including the first. */
  readonly attempts: number;
  /** Delay before the first retry, ms; doubles each retry (exponential backoff). */
  readonly backoffMs: number;
  /** Hard time limit of one attempt, ms: the attempt fails with STEP_TIMEOUT. */
  readonly timeoutMs: number;
  /** Soft time limit, ms (below the hard one): the handler's signal fires so it can stop cleanly. */
  readonly softTimeoutMs: number;
  /** Higher runs first among due jobs (Agenda priority, -20..20). */
  readonly priority: number;
}

/** A definition's defaults: the soft limit defaults to 90 % of the hard one, the priority to 0. */
export type JobDefaults = Omit<JobOptions, 'softTimeoutMs' | 'priority'> & Partial<Pick<JobOptions, 'softTimeoutMs' | 'priority'>>;

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

/** The options a definition runs with when nothing overrides them. */
export function defaultOptions(defaults: JobDefaults): JobOptions {
  return {
    ...defaults,
    softTimeoutMs: defaults.softTimeoutMs ?? Math.floor(defaults.timeoutMs * 0.9),
    priority: defaults.priority ?? 0,
  };
}

/**
 * How long a lock may be held before it belongs to a dead worker: the hard limit ends every
 * attempt, and a live run touches its lock, so a lock older than this plus a margin is dead.
 */
export function lockLifetimeMs(options: Pick<JobOptions, 'timeoutMs'>): number {
  return options.timeoutMs + 30_000;
}
