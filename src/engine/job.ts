import type { Agenda } from 'agenda';

import type { BlobStore } from '../blobs/types.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { NotifyHub } from '../notify/hub.js';
import type { DeliveryJobName } from '../notify/notifier.js';
import type { Store } from '../store/types.js';

/**
 * Payload of every job, keyed by job name: `enqueue('thumbnail', { fileId })` is type-checked
 * against this map. A new job adds its entry here and its file in jobs/.
 */
export interface JobPayloads extends DeliveryPayloads {
  'process-file': { fileId: string };
  analyze: { fileId: string };
  thumbnail: { fileId: string };
  ocr: { fileId: string };
  /** Periodic jobs: `occurrence` is absent when run by the schedule (the job uses its own nextRunAt). */
  'cleanup-stuck': { manual?: boolean };
  'daily-summary': { manual?: boolean };
  /** With owner: check that owner only (after an upload); without: every owner. */
  'quota-check': { owner?: string };
}
export type JobName = keyof JobPayloads;

/** Deliver one outbox row: one job name per channel, `deliver-<channel>` (src/notify/delivery.ts). */
type DeliveryPayloads = Record<DeliveryJobName, { notificationId: string }>;

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
  /** The engine's job records, for housekeeping (release dead locks, purge finished records). */
  readonly agenda: Agenda;
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
  /** Child logger bound to job name, job id and the payload's fileId. */
  readonly log: Logger;
  /** Fires on the definition's time limit and on shutdown; handlers pass it to everything slow. */
  readonly signal: AbortSignal;
  /** Tell the engine (and the store, for steps) the job is alive; extends the lock. progress 0..100. */
  heartbeat(progress?: number): Promise<void>;
  readonly services: JobServices;
}

export interface JobDefinition<N extends JobName = JobName> {
  readonly name: N;
  /** Runs of this job at once in one process. */
  readonly concurrency: number;
  /** Attempts in all, including the first (default 3). */
  readonly attempts: number;
  /** Delay before the first retry, ms; doubles each retry (exponential backoff). */
  readonly backoffMs: number;
  /** Time limit of one attempt, ms: the signal aborts at this point and the attempt fails. */
  readonly timeoutMs: number;
  /** Higher runs first among due jobs (Agenda priority, -20..20). */
  readonly priority?: number;
  handler(ctx: JobContext<N>): Promise<void | JobCounts>;
  /**
   * Called once after the last attempt failed (attempts exhausted, or a PermanentError),
   * before the engine records the failure. Errors thrown here are logged, not retried.
   */
  onFailed?(ctx: JobContext<N>, error: Error): Promise<void>;
}

/** Identity helper that keeps the job name literal, so the payload type follows it. */
export function defineJob<N extends JobName>(definition: JobDefinition<N>): JobDefinition<N> {
  return definition;
}
