import { Agenda, type Job, toJobId } from 'agenda';

import { raceAbort } from '../abort.js';
import { ErrorCodes, isPermanent, isUserError, NightshiftError, PermanentError, RetryLaterError, toError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RunningJob } from '../store/ops-types.js';
import type { EngineBackend } from './backends.js';
import { bulkRepository } from './bulk.js';
import {
  type AttemptClock,
  type Enqueue,
  type JobContext,
  type JobDefinition,
  type JobName,
  type JobOptions,
  type JobPayloads,
  type JobServices,
  lockLifetimeMs,
} from './job.js';
import { createMaintenance, type EngineMaintenance } from './maintenance.js';
import { jobEnvPrefix } from './options.js';

/** A registered job: its definition and the options this deployment runs it with. */
export interface RegisteredJob {
  readonly definition: JobDefinition;
  readonly options: JobOptions;
}

export interface EngineOptions {
  readonly backend: EngineBackend;
  /** Every job of the registry: enqueue and maintenance know them all. */
  readonly jobs: readonly RegisteredJob[];
  /** The jobs this process runs (defined in Agenda); the others wait for a worker that serves them. */
  readonly serve: ReadonlySet<JobName>;
  readonly services: Omit<JobServices, 'enqueue' | 'maintenance'>;
  readonly log: Logger;
  /** Poll interval when no wake-up arrives, ms. */
  readonly pollIntervalMs: number;
  /** Name of this process in Agenda's lastModifiedBy. */
  readonly name: string;
  /**
   * The job names paused by the operator (short-cached by the caller): enqueue stores jobs of a
   * paused name already disabled, so they wait. Default: nothing is paused.
   */
  readonly pausedJobs?: () => Promise<ReadonlySet<string>>;
  /** Told once when a job has failed for good (after onFailed). */
  readonly onJobFailed?: (def: JobDefinition, ctx: JobContext, error: Error) => Promise<void>;
}

export interface Engine {
  readonly agenda: Agenda;
  readonly enqueue: Enqueue;
  /**
   * Enqueue many jobs of one name through the backend's bulk path: one statement per batch of
   * `batchSize` (default 1,000), never one save per job. Jobs of a paused name are stored
   * paused. `onBatch` is told the running total after each batch. Returns how many were enqueued.
   */
  enqueueMany<N extends JobName>(name: N, payloads: readonly JobPayloads[N][], options?: EnqueueManyOptions): Promise<number>;
  readonly maintenance: EngineMaintenance;
  /** What this engine lends every job run: to run a job's domain code outside the engine (tests, benches). */
  readonly services: JobServices;
  /** The jobs this process runs, with their options. */
  readonly served: readonly RegisteredJob[];
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
  /** The runs under way in this process, for its heartbeat. */
  runningJobs(): RunningJob[];
}

export interface EnqueueManyOptions {
  /** Jobs per statement (default 1,000). */
  readonly batchSize?: number;
  onBatch?(enqueued: number): void;
}

/**
 * Locks at most a few jobs per definition beyond its concurrency. Agenda's default (0 =
 * unlimited) locks the whole backlog before running the first job, and leaves it locked
 * for other workers.
 */
const LOCK_SLACK = 2;

/** How much longer than its hard limit an attempt may wait for a pool worker to start its work. */
const WAIT_BACKSTOP_MS = 60_000;

const timeoutError = (name: string, kind: 'soft' | 'hard', ms: number) =>
  new NightshiftError(
    ErrorCodes.STEP_TIMEOUT,
    kind === 'hard'
      ? `${name} took longer than its time limit of ${ms} ms (${jobEnvPrefix(name)}_TIMEOUT_MS)`
      : `${name} passed its soft time limit of ${ms} ms (${jobEnvPrefix(name)}_SOFT_TIMEOUT_MS) and was asked to stop`,
  );

export async function createEngine(options: EngineOptions): Promise<Engine> {
  const { backend, log } = options;
  // Agenda's constructor connects without handling a failure (its ready promise would never
  // settle): connect first, so a wrong DATABASE_URL fails start-up with the driver's error.
  // Every backend's connect() is idempotent.
  await backend.backend.connect();
  const served = options.jobs.filter((j) => options.serve.has(j.definition.name));
  const byName = new Map(options.jobs.map((j) => [j.definition.name, j] as const));
  const agenda = new Agenda({
    backend: backend.backend,
    ...(backend.notificationChannel ? { notificationChannel: backend.notificationChannel } : {}),
    name: options.name,
    processEvery: options.pollIntervalMs,
    // The sum of every definition's concurrency: each definition limits itself.
    maxConcurrency: Math.max(
      1,
      served.reduce((n, j) => n + j.options.concurrency, 0),
    ),
    defaultLockLimit: 1,
  });
  await agenda.ready;

  const shutdown = new AbortController();
  let active = 0;
  const runs = new Map<string, RunningJob>();
  const pausedJobs = options.pausedJobs ?? (async () => new Set<string>());
  const bulk = bulkRepository(backend.backend.repository);
  const channel = backend.notificationChannel ?? backend.backend.notificationChannel;

  const enqueue: Enqueue = async (name, payload, opts) => {
    // Set here, not by create(): a job this process does not serve is not defined in Agenda.
    const job = agenda.create(name, payload).priority(byName.get(name)?.options.priority ?? 0);
    if ((await pausedJobs()).has(name)) job.disable();
    if (opts?.uniqueBy !== undefined) {
      job.unique({ [`data.${opts.uniqueBy}`]: (payload as Record<string, unknown>)[opts.uniqueBy] });
    }
    if (opts?.runAt !== undefined) job.schedule(opts.runAt);
    await job.save();
  };
  const enqueueMany: Engine['enqueueMany'] = async (name, payloads, opts) => {
    const size = Math.max(1, opts?.batchSize ?? 1_000);
    const priority = byName.get(name)?.options.priority ?? 0;
    let enqueued = 0;
    for (let i = 0; i < payloads.length; i += size) {
      const disabled = (await pausedJobs()).has(name);
      const nextRunAt = new Date();
      enqueued += await bulk.insertJobs(
        payloads.slice(i, i + size).map((data) => ({ name, data, priority, nextRunAt, disabled })),
        options.name,
      );
      // SQLite records a wake-up and PostgreSQL's trigger notifies in the insert itself; MongoDB's
      // Redis channel hears of new jobs only when told (a change stream sees the inserts).
      if (!disabled && backend.backend.name === 'MongoDB' && channel?.state === 'connected') {
        await channel.publish({ jobId: toJobId(`bulk:${name}`), jobName: name, nextRunAt, priority, timestamp: new Date(), source: 'bulk' });
      }
      opts?.onBatch?.(enqueued);
    }
    return enqueued;
  };
  const maintenance = createMaintenance(agenda, new Map(options.jobs.map((j) => [j.definition.name, lockLifetimeMs(j.options)] as const)));
  const services: JobServices = { ...options.services, enqueue, maintenance };

  for (const { definition: def, options: opts } of served) {
    agenda.define(def.name, (job: Job<JobPayloads[JobName]>) => runJob(def, opts, job), {
      concurrency: opts.concurrency,
      lockLimit: opts.concurrency + LOCK_SLACK,
      lockLifetime: lockLifetimeMs(opts),
      priority: opts.priority,
      backoff: (ctx) => {
        if (isPermanent(ctx.error) || ctx.attempt >= opts.attempts) return null;
        return ctx.error instanceof RetryLaterError ? ctx.error.retryAfterMs : opts.backoffMs * 2 ** (ctx.attempt - 1);
      },
    });
  }

  async function runJob(def: JobDefinition, opts: JobOptions, job: Job<JobPayloads[JobName]>): Promise<void> {
    const attempt = (job.attrs.failCount ?? 0) + 1;
    const raw: unknown = job.attrs.data ?? {};
    const jobLog = log.child({ job: def.name, jobId: String(job.attrs._id), ...(raw as object), attempt });
    const soft = new AbortController();
    const hard = new AbortController();
    let softTimer: NodeJS.Timeout | undefined;
    let hardTimer: NodeJS.Timeout | undefined;
    const clearTimers = () => {
      clearTimeout(softTimer);
      clearTimeout(hardTimer);
    };
    const clock: AttemptClock = {
      restart() {
        clearTimers();
        // A soft limit of 0 is none: only the hard limit ends the attempt.
        if (opts.softTimeoutMs > 0) softTimer = setTimeout(() => soft.abort(timeoutError(def.name, 'soft', opts.softTimeoutMs)), opts.softTimeoutMs);
        hardTimer = setTimeout(() => hard.abort(timeoutError(def.name, 'hard', opts.timeoutMs)), opts.timeoutMs);
      },
      hold() {
        clearTimers();
        const backstop = opts.timeoutMs + WAIT_BACKSTOP_MS;
        hardTimer = setTimeout(
          () => hard.abort(new NightshiftError(ErrorCodes.STEP_TIMEOUT, `${def.name} waited longer than ${backstop} ms for a worker to start its work`)),
          backstop,
        );
      },
    };
    clock.restart();
    const hardSignal = AbortSignal.any([hard.signal, shutdown.signal]);
    const signal = AbortSignal.any([soft.signal, hardSignal]);
    const parsed = def.payload.safeParse(raw);
    const ctx: JobContext = {
      jobId: String(job.attrs._id),
      name: def.name,
      // Only read when the payload parsed: a malformed one fails before the handler runs.
      data: (parsed.success ? parsed.data : raw) as JobPayloads[JobName],
      attempt,
      maxAttempts: opts.attempts,
      options: opts,
      log: jobLog,
      signal,
      hardSignal,
      heartbeat: (progress) => job.touch(progress),
      clock,
      services,
    };
    active++;
    const runKey = ctx.jobId;
    const fileId = (raw as { fileId?: unknown }).fileId;
    runs.set(runKey, { job: def.name, jobId: runKey, fileId: typeof fileId === 'string' ? fileId : null, startedAt: new Date(), attempt });
    const started = performance.now();
    try {
      if (!parsed.success) {
        const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ');
        throw new PermanentError(ErrorCodes.PAYLOAD_INVALID, `${def.name}: malformed payload (${why})`);
      }
      // Racing the hard signal ends the attempt on time even if a library ignores the abort.
      await raceAbort(def.handler(ctx), hardSignal);
      jobLog.debug({ ms: Math.round(performance.now() - started) }, 'job done');
    } catch (thrown) {
      const err = toError(signal.aborted && !(thrown instanceof NightshiftError) ? (signal.reason ?? thrown) : thrown);
      const last = isPermanent(err) || attempt >= opts.attempts;
      if (err instanceof RetryLaterError && !last) jobLog.info({ reason: err.message, retryAfterMs: err.retryAfterMs }, 'job will retry later');
      // A user's bad file: no stack; the file's own "file failed" line (info) says why.
      else if (isUserError(err)) jobLog.debug({ code: err.code, reason: err.message }, 'job refused its input');
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
      clearTimers();
      active--;
      runs.delete(runKey);
    }
  }

  let publishing = false;
  let started = false;
  let stopped = false;
  return {
    agenda,
    enqueue,
    enqueueMany,
    maintenance,
    services,
    served,
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
        // drain(), unlike stop(), leaves the jobs this worker locked but never started locked
        // until their lock lifetime: release every lock still held, so others take them now.
        const released = await maintenance.releaseLocksOf(options.name, new Date()).catch((err: unknown) => {
          log.warn({ err: toError(err) }, 'could not release the locks of this worker');
          return 0;
        });
        if (released > 0) log.info({ released }, 'released the locks of jobs this worker had not finished');
      }
      if (publishing) await channel?.disconnect();
      log.debug('disconnecting backend');
      await backend.backend.disconnect();
      log.debug('backend disconnected');
    },
    running: () => active,
    runningJobs: () => [...runs.values()],
  };
}
