import { Agenda, type Job } from 'agenda';

import { raceAbort } from '../abort.js';
import { ErrorCodes, NightshiftError, RetryLaterError, isPermanent, toError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EngineBackend } from './backends.js';
import type { Enqueue, JobContext, JobDefinition, JobName, JobPayloads, JobServices } from './job.js';

export interface EngineOptions {
  readonly backend: EngineBackend;
  readonly definitions: readonly JobDefinition[];
  readonly services: Omit<JobServices, 'enqueue' | 'agenda'>;
  readonly log: Logger;
  /** Poll interval when no wake-up arrives, ms. */
  readonly pollIntervalMs: number;
  /** Name of this process in Agenda's lastModifiedBy. */
  readonly name: string;
  /** Told once when a job has failed for good (after onFailed). */
  readonly onJobFailed?: (def: JobDefinition, ctx: JobContext, error: Error) => Promise<void>;
}

export interface Engine {
  readonly agenda: Agenda;
  readonly enqueue: Enqueue;
  /** Start taking work (worker roles only). */
  start(): Promise<void>;
  /**
   * For processes that only enqueue (the api role): connect the wake-up channel so that a
   * worker elsewhere starts a new job at once instead of at its next poll.
   */
  startPublishing(): Promise<void>;
  /**
   * Stop taking work, wait up to timeoutMs for running jobs, abort what is still running,
   * then close the backend. Safe to call once.
   */
  stop(timeoutMs: number): Promise<void>;
  /** Runs under way in this process right now. */
  running(): number;
}

/**
 * Locks at most a few jobs per definition beyond its concurrency. Agenda's default (0 =
 * unlimited) locks the whole backlog before running the first job, and leaves it locked
 * for other workers.
 */
const LOCK_SLACK = 2;

export async function createEngine(options: EngineOptions): Promise<Engine> {
  const { backend, log } = options;
  // Agenda's constructor connects without handling a failure (its ready promise would never
  // settle): connect first, so a wrong DATABASE_URL fails start-up with the driver's error.
  // Every backend's connect() is idempotent.
  await backend.backend.connect();
  const agenda = new Agenda({
    backend: backend.backend,
    ...(backend.notificationChannel ? { notificationChannel: backend.notificationChannel } : {}),
    name: options.name,
    processEvery: options.pollIntervalMs,
    // The sum of every definition's concurrency: each definition limits itself.
    maxConcurrency: options.definitions.reduce((n, d) => n + d.concurrency, 0),
    defaultLockLimit: 1,
  });
  await agenda.ready;

  const shutdown = new AbortController();
  let active = 0;

  const enqueue: Enqueue = async (name, payload, opts) => {
    // create() takes the priority from the job's definition.
    const job = agenda.create(name, payload);
    if (opts?.uniqueBy !== undefined) {
      job.unique({ [`data.${opts.uniqueBy}`]: (payload as Record<string, unknown>)[opts.uniqueBy] });
    }
    if (opts?.runAt !== undefined) job.schedule(opts.runAt);
    await job.save();
  };
  const services: JobServices = { ...options.services, enqueue, agenda };

  for (const def of options.definitions) {
    agenda.define(def.name, (job: Job<JobPayloads[JobName]>) => runJob(def, job), {
      concurrency: def.concurrency,
      lockLimit: def.concurrency + LOCK_SLACK,
      // The time limit aborts the attempt, so a lock older than that plus a margin belongs to a dead worker.
      lockLifetime: def.timeoutMs + 30_000,
      ...(def.priority !== undefined ? { priority: def.priority } : {}),
      backoff: (ctx) => {
        if (isPermanent(ctx.error) || ctx.attempt >= def.attempts) return null;
        return ctx.error instanceof RetryLaterError ? ctx.error.retryAfterMs : def.backoffMs * 2 ** (ctx.attempt - 1);
      },
    });
  }

  async function runJob(def: JobDefinition, job: Job<JobPayloads[JobName]>): Promise<void> {
    const attempt = (job.attrs.failCount ?? 0) + 1;
    const data = job.attrs.data;
    const jobLog = log.child({ job: def.name, jobId: String(job.attrs._id), ...data, attempt });
    const limit = new AbortController();
    const timer = setTimeout(
      () => limit.abort(new NightshiftError(ErrorCodes.STEP_TIMEOUT, `${def.name} took longer than its time limit of ${def.timeoutMs} ms`)),
      def.timeoutMs,
    );
    const signal = AbortSignal.any([limit.signal, shutdown.signal]);
    const ctx: JobContext = {
      jobId: String(job.attrs._id),
      name: def.name,
      data,
      attempt,
      maxAttempts: def.attempts,
      log: jobLog,
      signal,
      heartbeat: (progress) => job.touch(progress),
      services,
    };
    active++;
    const started = performance.now();
    try {
      // Racing the signal ends the attempt on time even if a library ignores the abort.
      await raceAbort(def.handler(ctx), signal);
      jobLog.debug({ ms: Math.round(performance.now() - started) }, 'job done');
    } catch (thrown) {
      const err = toError(signal.aborted && !(thrown instanceof NightshiftError) ? (signal.reason ?? thrown) : thrown);
      const last = isPermanent(err) || attempt >= def.attempts;
      if (err instanceof RetryLaterError && !last) jobLog.info({ reason: err.message, retryAfterMs: err.retryAfterMs }, 'job will retry later');
      else jobLog.warn({ err, last }, last ? 'job failed for good' : 'job attempt failed; will retry');
      if (last) {
        for (const hook of [def.onFailed?.bind(def), options.onJobFailed && ((c: JobContext, e: Error) => options.onJobFailed!(def, c, e))]) {
          if (!hook) continue;
          try {
            await hook(ctx, err);
          } catch (hookErr) {
            jobLog.error({ err: toError(hookErr) }, 'job-failed hook threw');
          }
        }
      }
      throw err;
    } finally {
      clearTimeout(timer);
      active--;
    }
  }

  const channel = backend.notificationChannel ?? backend.backend.notificationChannel;
  let publishing = false;
  let started = false;
  let stopped = false;
  return {
    agenda,
    enqueue,
    async start() {
      started = true;
      await agenda.start();
    },
    async startPublishing() {
      if (started) return;
      if (channel && channel.state !== 'connected') {
        await channel.connect();
        publishing = true;
      }
    },
    async stop(timeoutMs) {
      if (stopped) return;
      stopped = true;
      if (started) {
        log.debug('draining');
        const result = await agenda.drain({ timeout: timeoutMs, closeConnection: false });
        log.debug({ result }, 'drained');
        if (result.timedOut) {
          log.warn({ running: result.running }, 'drain timed out: aborting running jobs');
          shutdown.abort(new NightshiftError(ErrorCodes.ABORTED, 'the worker is shutting down'));
          // Give aborted handlers a moment to record their failure before the connection closes.
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      if (publishing) await channel?.disconnect();
      log.debug('disconnecting backend');
      await backend.backend.disconnect();
      log.debug('backend disconnected');
    },
    running: () => active,
  };
}
