import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import { requireToken } from './http/auth.js';

/** How a finished job run ended: done, failed with another attempt to come, failed for good. */
export type JobOutcome = 'success' | 'retry' | 'failure';
/** A notifier's answer (see src/notify/notifier.ts): delivered, retryable or permanent. */
export type NotificationOutcome = 'delivered' | 'retryable' | 'permanent' | 'error';

export interface MetricsOptions {
  /** Every job name of the registry: each gets its queue-depth series, 0 when nothing waits. */
  readonly jobs: readonly string[];
  /**
   * Jobs due and waiting, by job name, read from the engine's database, so that every role
   * (api, worker, all) reports the same numbers. Unset: no `nightshift_queue_depth`.
   */
  readonly queueDepth?: () => Promise<Readonly<Record<string, number>>>;
  /** Files by status, from the store. Unset: no `nightshift_files`. */
  readonly filesByStatus?: () => Promise<Readonly<Record<string, number>>>;
  /** Worker processes by state, from the store's workers registry. Unset: no `nightshift_workers` series. */
  readonly workersByState?: () => Promise<Readonly<Record<'alive' | 'stale', number>>>;
  /** Store reads are cached this long, ms, so a scrape every second costs one query (default 2000). */
  readonly cacheMs?: number;
  /** Told when a store read for a gauge fails (the gauge keeps its last values). */
  readonly onReadError?: (err: unknown, gauge: string) => void;
  /** prom-client's default process and Node.js metrics (default true). */
  readonly defaultMetrics?: boolean;
}

/**
 * The service's Prometheus metrics, in a registry of its own (not prom-client's global one),
 * so two services in one process (tests) do not collide.
 */
export interface Metrics {
  readonly registry: Registry;
  /** A job run finished after `seconds`. */
  jobFinished(job: string, outcome: JobOutcome, seconds: number): void;
  /** A processing step's run finished after `seconds`. */
  stepFinished(step: string, seconds: number): void;
  notification(channel: string, outcome: NotificationOutcome): void;
  uploadBytes(bytes: number): void;
  /** Runs under way in this process and the most it may run at once. */
  setLoad(active: number, concurrency: number): void;
}

/** Seconds: steps and jobs take from a few ms (a skipped step) to minutes (OCR of a big scan). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** One read at a time, reused for cacheMs; a failed read is not cached. */
function cached<T>(read: () => Promise<T>, ms: number): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (last && performance.now() - last.at < ms) return last.value;
    const value = read();
    last = { at: performance.now(), value };
    value.catch(() => {
      if (last?.value === value) last = undefined;
    });
    return value;
  };
}

/** A gauge whose values are read on scrape: each label value of the read is set, the others reset to 0. */
function storeGauge(
  registry: Registry,
  name: string,
  help: string,
  label: string,
  read: () => Promise<Readonly<Record<string, number>>>,
  known: readonly string[],
  onError: (err: unknown) => void,
): void {
  new Gauge({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    async collect() {
      let values: Readonly<Record<string, number>>;
      try {
        values = await read();
      } catch (err) {
        // Keep the last values: one failed scrape must not make the whole /metrics answer 500.
        onError(err);
        return;
      }
      for (const k of known) this.set({ [label]: k }, 0);
      for (const [k, v] of Object.entries(values)) this.set({ [label]: k }, v);
    },
  });
}

export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const cacheMs = options.cacheMs ?? 2_000;
  const onError = (gauge: string) => (err: unknown) => options.onReadError?.(err, gauge);

  const jobs = new Counter({
    name: 'nightshift_jobs_total',
    help: 'Job runs finished in this process, by job and outcome (success, retry, failure)',
    labelNames: ['job', 'outcome'],
    registers: [registry],
  });
  const jobSeconds = new Histogram({
    name: 'nightshift_job_duration_seconds',
    help: 'Wall time of a finished job run, seconds',
    labelNames: ['job'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const stepSeconds = new Histogram({
    name: 'nightshift_step_duration_seconds',
    help: 'Wall time of a finished processing step run, seconds',
    labelNames: ['step'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const notifications = new Counter({
    name: 'nightshift_notifications_total',
    help: 'Notification send attempts, by channel and outcome',
    labelNames: ['channel', 'outcome'],
    registers: [registry],
  });
  const uploadBytes = new Counter({ name: 'nightshift_upload_bytes_total', help: 'Bytes of accepted uploads', registers: [registry] });
  const active = new Gauge({ name: 'nightshift_jobs_active', help: 'Job runs under way in this process', registers: [registry] });
  const concurrency = new Gauge({ name: 'nightshift_jobs_concurrency', help: 'Most job runs this process may run at once', registers: [registry] });

  if (options.queueDepth) {
    storeGauge(
      registry,
      'nightshift_queue_depth',
      'Jobs due and waiting, by job (from the database: the same in every process)',
      'job',
      cached(options.queueDepth, cacheMs),
      options.jobs,
      onError('nightshift_queue_depth'),
    );
  }
  if (options.filesByStatus) {
    storeGauge(
      registry,
      'nightshift_files',
      'Files by status (from the store)',
      'status',
      cached(options.filesByStatus, cacheMs),
      ['uploaded', 'processing', 'completed', 'failed'],
      onError('nightshift_files'),
    );
  }
  if (options.workersByState) {
    storeGauge(
      registry,
      'nightshift_workers',
      'Worker processes by state (from the store)',
      'state',
      cached(options.workersByState, cacheMs),
      ['alive', 'stale'],
      onError('nightshift_workers'),
    );
  }

  return {
    registry,
    jobFinished(job, outcome, seconds) {
      jobs.inc({ job, outcome });
      jobSeconds.observe({ job }, seconds);
    },
    stepFinished(step, seconds) {
      stepSeconds.observe({ step }, seconds);
    },
    notification(channel, outcome) {
      notifications.inc({ channel, outcome });
    },
    uploadBytes(bytes) {
      uploadBytes.inc(bytes);
    },
    setLoad(runs, most) {
      active.set(runs);
      concurrency.set(most);
    },
  };
}

export interface MetricsRouteOptions {
  /** METRICS_TOKEN: a Bearer token for /metrics only; wins over apiToken. */
  readonly metricsToken?: string | undefined;
  /** API_TOKEN: guards /metrics too when no METRICS_TOKEN is set. */
  readonly apiToken?: string | undefined;
}

/**
 * `GET /metrics` in Prometheus text format, behind METRICS_TOKEN, else API_TOKEN (a Bearer
 * token). With neither, it is open: the server then only binds to loopback (checkBindSafety).
 */
export function metricsRoute(app: FastifyInstance, registry: Registry, options: MetricsRouteOptions): void {
  const token = options.metricsToken ?? options.apiToken;
  const guard = token ? requireToken(token, { allowBasic: false, realm: 'nightshift metrics' }) : undefined;
  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['health'] }, ...(guard ? { onRequest: guard } : {}) }, async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
