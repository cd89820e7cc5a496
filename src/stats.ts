import type { Agenda } from 'agenda';
import { schedule, type ScheduledTask } from 'node-cron';

import { toError } from './errors.js';
import type { Logger } from './logger.js';

/** The numbers of the stats line, as they stand now. */
export interface StatsSnapshot {
  /** Seconds since the stats began (the worker started). */
  readonly uptimeSeconds: number;
  /** Job runs finished in this process (success or failure). */
  readonly processed: number;
  readonly succeeded: number;
  /** Failed attempts (a job retried twice and then done counts 2 here). */
  readonly failed: number;
  /** succeeded / processed, percent; null before the first run. */
  readonly successPercent: number | null;
  /** Runs under way now, and the most this process may run at once. */
  readonly active: number;
  readonly concurrency: number;
  /** Most runs at once since start. */
  readonly peak: number;
  /** Mean wall time of a finished run, ms; null before the first. */
  readonly avgStepMs: number | null;
  /** Jobs due and waiting in the database (Agenda's queue size); null if it could not be read. */
  readonly queueDepth: number | null;
}

export interface StatsOptions {
  readonly agenda: Agenda;
  readonly log: Logger;
  /** Seconds between two lines (STATS_INTERVAL_SECONDS, default 30). */
  readonly intervalSeconds: number;
  /** Most runs at once in this process (the engine's maxConcurrency). */
  readonly concurrency: number;
  /** Each served job's concurrency (JOB_<NAME>_CONCURRENCY), shown with its runs under way. */
  readonly perJob?: Readonly<Record<string, number>>;
}

/** Runs under way and the concurrency of each served job: "ocr 1/4". */
export type JobLoad = Readonly<Record<string, { readonly running: number; readonly concurrency: number }>>;

/** The stats line; its numbers as Prometheus metrics are src/metrics.ts's (counters and histograms). */
export interface Stats {
  /** Start the timer (worker roles, once the engine runs). */
  start(): void;
  /** Stop the timer and stop listening to the engine. Safe to call twice. */
  stop(): Promise<void>;
  /** The numbers now (queue depth read from the database). */
  snapshot(): Promise<StatsSnapshot>;
  /** Take a snapshot, set the gauges and log the line; what the timer does. */
  tick(): Promise<StatsSnapshot>;
}

/**
 * A node-cron expression for "every N seconds". Cron steps restart at each minute (hour), so an
 * N that does not divide 60 gives one shorter gap a minute; good enough for a log line.
 */
export function everySeconds(n: number): string {
  if (n < 60) return `*/${n} * * * * *`;
  const minutes = Math.round(n / 60);
  return minutes < 60 ? `0 */${minutes} * * * *` : '0 0 * * * *';
}

function duration(seconds: number): string {
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export function statsLine(s: StatsSnapshot): string {
  const ok = s.successPercent === null ? '–' : `${s.successPercent.toFixed(1)}%`;
  const avg = s.avgStepMs === null ? '–' : `${Math.round(s.avgStepMs)} ms`;
  return `stats: up ${duration(s.uptimeSeconds)}, processed ${s.processed} (${ok} ok, ${s.failed} failed), active ${s.active}/${s.concurrency} (peak ${s.peak}), avg step ${avg}, queue ${s.queueDepth ?? '?'}`;
}

/**
 * The stats line of a worker: counts from Agenda's local events (remote ones, from other
 * processes over the notification channel, are ignored: each worker reports itself), logged by
 * an in-process node-cron timer. Not persisted: a restart starts from zero, like uptime.
 */
export function createStats(options: StatsOptions): Stats {
  const { agenda, log } = options;
  const startedAt = performance.now();
  const running = new Map<string, { at: number; name: string }>();
  let succeeded = 0;
  let failed = 0;
  let peak = 0;
  let totalMs = 0;
  let finished = 0;

  type Ev = { attrs: { _id?: unknown; name?: string } };
  const idOf = (job: Ev) => String(job.attrs._id);
  const onStart = (job: Ev, remote?: boolean) => {
    if (remote === true) return;
    running.set(idOf(job), { at: performance.now(), name: job.attrs.name ?? '' });
    if (running.size > peak) peak = running.size;
  };
  const onComplete = (job: Ev, remote?: boolean) => {
    if (remote === true) return;
    const began = running.get(idOf(job));
    running.delete(idOf(job));
    if (began === undefined) return;
    totalMs += performance.now() - began.at;
    finished++;
  };
  const onSuccess = (_job: unknown, remote?: boolean) => {
    if (remote !== true) succeeded++;
  };
  const onFail = (_err: unknown, _job: unknown, remote?: boolean) => {
    if (remote !== true) failed++;
  };
  agenda.on('start', onStart);
  agenda.on('complete', onComplete);
  agenda.on('success', onSuccess);
  agenda.on('fail', onFail);

  async function snapshot(): Promise<StatsSnapshot> {
    let queueDepth: number | null = null;
    try {
      queueDepth = (await agenda.getRunningStats()).totalQueueSizeDB;
    } catch (err) {
      log.debug({ err: toError(err) }, 'stats: queue size unavailable');
    }
    const processed = succeeded + failed;
    return {
      uptimeSeconds: (performance.now() - startedAt) / 1000,
      processed,
      succeeded,
      failed,
      successPercent: processed === 0 ? null : (succeeded / processed) * 100,
      active: running.size,
      concurrency: options.concurrency,
      peak,
      avgStepMs: finished === 0 ? null : totalMs / finished,
      queueDepth,
    };
  }

  function jobLoad(): JobLoad {
    const load: Record<string, { running: number; concurrency: number }> = {};
    for (const [name, concurrency] of Object.entries(options.perJob ?? {})) load[name] = { running: 0, concurrency };
    for (const { name } of running.values()) {
      const entry = load[name];
      if (entry) entry.running++;
    }
    return load;
  }

  async function tick(): Promise<StatsSnapshot> {
    const s = await snapshot();
    // Per job ("ocr": 1 running of 4) as a field of the line, so JOB_<NAME>_CONCURRENCY shows.
    log.info({ stats: s, jobs: jobLoad() }, statsLine(s));
    return s;
  }

  let task: ScheduledTask | undefined;
  let stopped = false;
  return {
    start() {
      if (task || stopped) return;
      task = schedule(everySeconds(options.intervalSeconds), () => tick().catch((err: unknown) => log.warn({ err: toError(err) }, 'stats line failed')), {
        name: 'nightshift-stats',
        noOverlap: true,
      });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      agenda.off('start', onStart);
      agenda.off('complete', onComplete);
      agenda.off('success', onSuccess);
      agenda.off('fail', onFail);
      await task?.destroy();
      task = undefined;
    },
    snapshot,
    tick,
  };
}
