/**
 * The per-step API over the worker pools (src/pool): `openAnalyze`, `openThumbnail`, `openOcr`
 * each start a pool whose workers load their models once, and return `{ run, close }`. `run`
 * takes the original's bytes, the step's options, the soft signal (the step's own abort:
 * stop between phases), the hard signal (terminate the worker running the attempt) and the
 * attempt's clock (held while the task waits for a worker, restarted when its work begins).
 * A result exists only when a pool task completed, so a terminated attempt leaves nothing.
 */
import type { Config, StepPoolConfig } from '../../src/config.js';
import type { AttemptClock } from '../../src/engine/job.js';
import { createPool, defaultPoolSize, type PoolStats, type WorkerPool } from '../../src/pool/pool.js';
import { Slots } from '../../src/pool/slots.js';
import type { AnalyzeResult } from './analyze.js';
import type { OcrOutcome } from './ocr.js';
import type { Thumbnail } from './thumbnail.js';
import type { AnalyzeTask } from './workers/analyze-worker.js';
import type { OcrTask, OcrWorkerData } from './workers/ocr-worker.js';
import type { ThumbnailTask } from './workers/thumbnail-worker.js';

/** What every step pool is opened with (config.pools.<step>). */
export type StepPoolOptions = StepPoolConfig & { readonly idleTimeoutMs?: number };

/** A step's pool config (config.pools is read for every processing step of the registry). */
export function poolOf(config: Config, step: string): StepPoolConfig {
  const pool = config.pools[step];
  if (!pool) throw new Error(`no pool config for step ${step}`);
  return pool;
}

export interface StepRunner<O, R> {
  run(bytes: Buffer, options: O, signal?: AbortSignal, hardSignal?: AbortSignal, clock?: AttemptClock): Promise<R>;
  stats(): PoolStats;
  close(): Promise<void>;
}

const worker = (file: string) => new URL(`./workers/${file}`, import.meta.url);

let machine: Slots | undefined;
/**
 * The cores the step pools of this process share. Each pool has a worker per core, so that one
 * step alone can use them all; together they would run three times as many CPU-bound threads as
 * cores, and the mix of photos and pages took 9–20 % more CPU so (bench/isolation.ts). A pool
 * sized past the cores (JOB_<NAME>_CONCURRENCY) widens the slots to its size.
 */
function machineSlots(poolSize: number | undefined): Slots {
  const capacity = Math.max(defaultPoolSize(), poolSize ?? 0);
  if (!machine || machine.capacity < capacity) machine = new Slots(capacity);
  return machine;
}

function runner<T extends object, O, R>(pool: WorkerPool<T, R>, toTask: (bytes: Uint8Array, options: O) => T, spareCore = false): StepRunner<O, R> {
  return {
    // The bytes are copied to the worker (structured clone): the caller's buffer stays valid.
    run: (bytes, options, signal, hardSignal, clock) => pool.run(toTask(bytes, options), { signal: hardSignal, softSignal: signal, clock, spareCore }),
    stats: () => pool.stats(),
    close: () => pool.close(),
  };
}

export interface AnalyzeRunOptions {
  readonly maxPixels: number;
  readonly modelDir?: string | undefined;
}
export function openAnalyze(options: StepPoolOptions): StepRunner<AnalyzeRunOptions, AnalyzeResult> {
  const pool = createPool<AnalyzeTask, AnalyzeResult>({
    name: 'analyze',
    filename: worker('analyze-worker.js'),
    machine: machineSlots(options.size),
    ...options,
  });
  return runner(pool, (bytes, o) => ({ bytes, maxPixels: o.maxPixels, modelDir: o.modelDir }));
}

export interface ThumbnailRunOptions {
  readonly maxPixels: number;
  readonly size?: number;
  readonly quality?: number;
}
export function openThumbnail(options: StepPoolOptions): StepRunner<ThumbnailRunOptions, Thumbnail> {
  const pool = createPool<ThumbnailTask, Thumbnail>({
    name: 'thumbnail',
    filename: worker('thumbnail-worker.js'),
    machine: machineSlots(options.size),
    ...options,
  });
  const r = runner(pool, (bytes, o: ThumbnailRunOptions) => ({ bytes, ...o }));
  // The WebP bytes arrive as a Uint8Array.
  return { ...r, run: async (...args) => ((t) => ({ ...t, data: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength) }))(await r.run(...args)) };
}

export interface OcrRunOptions {
  readonly maxPixels: number;
  readonly mode: 'auto' | 'always' | 'never';
  readonly minConfidence: number;
}
export function openOcr(options: StepPoolOptions & OcrWorkerData): StepRunner<OcrRunOptions, OcrOutcome> {
  const { langs, langDir, ...rest } = options;
  const pool = createPool<OcrTask, OcrOutcome>({
    name: 'ocr',
    filename: worker('ocr-worker.js'),
    workerData: { langs, langDir } satisfies OcrWorkerData,
    machine: machineSlots(rest.size),
    ...rest,
  });
  // A page is read as two halves at once only when a second core is free (jobs/lib/ocr-bands.ts).
  return runner(pool, (bytes, o) => ({ bytes, ...o }), true);
}

const shared = new Map<string, { key: string; runner: StepRunner<never, unknown> }>();

/** The process's runner for a step, opened on first use; different options replace it. */
export function sharedStep<R extends StepRunner<never, unknown>>(name: string, options: object, open: () => R): R {
  const key = JSON.stringify(options);
  const current = shared.get(name);
  if (current?.key === key) return current.runner as R;
  void current?.runner.close();
  const runner = open();
  shared.set(name, { key, runner });
  return runner;
}

/** Stats of the shared step pools (tests, benches). */
export function stepPoolStats(): Record<string, PoolStats> {
  return Object.fromEntries([...shared].map(([name, s]) => [name, s.runner.stats()]));
}

/** Terminate every shared step pool's workers (shutdown). Safe to call when there is none. */
export async function closeStepPools(): Promise<void> {
  const all = [...shared.values()];
  shared.clear();
  await Promise.all(all.map((s) => s.runner.close()));
}
