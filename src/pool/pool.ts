/**
 * A pool of worker threads for CPU-heavy step work (decode, inference, encode, OCR), so the
 * main thread only moves bytes and records state. Built on tinypool (vitest's pool, a fork of
 * piscina: abortable tasks that terminate their worker, resourceLimits, idle timeout); this
 * module adds what nightshift needs on top:
 * a hard limit that terminates the worker running the attempt, a heap cap per worker, recycling
 * after N tasks or past a memory footprint, and errors from the catalog.
 *
 * Glossary: a *pool* belongs to one step (analyze, thumbnail, ocr); a *worker* is one thread of
 * it, which loads its models once and runs one task at a time; a *task* is one attempt's work.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

import Tinypool from 'tinypool';

import { defaults } from '../../config/defaults.js';
import { abortReason } from '../abort.js';
import { errorCode, ErrorCodes, NightshiftError, PermanentError } from '../errors.js';
import { Slots } from './slots.js';
import { type AtomicsWaitAsync, SPARE, type TaskAnswer } from './worker.js';

export interface PoolOptions {
  /** The step the pool serves: errors name its knobs, JOB_<NAME>_…. */
  readonly name: string;
  /** Compiled worker entry file (URL or path) whose default export is `poolTask(handler)` (src/pool/worker.ts). */
  readonly filename: URL | string;
  /** Worker threads at most; also the step's concurrency. Default os.availableParallelism(). */
  readonly size?: number | undefined;
  /** V8 heap limit of each worker, MB (resourceLimits.maxOldGenerationSizeMb). Default 1024. */
  readonly maxHeapMb?: number | undefined;
  /** A worker is replaced after this many tasks. Default 200. */
  readonly maxTasksPerWorker?: number | undefined;
  /**
   * A worker whose footprint (its heap plus memory outside it: ArrayBuffers, WebAssembly
   * memories), MB, is past this after a task is replaced. Default 1536.
   */
  readonly maxRssMb?: number | undefined;
  /** An idle worker exits after this, ms; its models load again on next use. Default 30_000. */
  readonly idleTimeoutMs?: number | undefined;
  /** Handed to every worker (Tinypool.workerData in the worker). */
  readonly workerData?: unknown;
  /**
   * The cores this pool shares with others whose work competes for them: a task computes only
   * while it holds one of these slots besides a worker of its own pool (waiting for one is
   * waiting, not work: the attempt's clock is held). Without it the pool counts only its own.
   */
  readonly machine?: Slots | undefined;
}

export interface RunOptions {
  /** Hard limit: when it fires, the worker running the task is terminated and the run rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  /** Soft limit: when it fires, the task's `softAbort` flag is set; the worker's own signal aborts (see softSignal). */
  readonly softSignal?: AbortSignal | undefined;
  /** ArrayBuffers to move to the worker instead of copying (the caller must not use them after). */
  readonly transferList?: ArrayBuffer[] | undefined;
  /**
   * The attempt's clock: held while the task waits for a slot or a worker warms up, restarted
   * when the worker begins the task's own work (the limits measure that work, not the wait).
   */
  readonly clock?: { hold(): void; restart(): void } | undefined;
  /**
   * Ask the pool's `machine` for a second slot nobody else wants, now or while the task runs:
   * the task's `spare` flag turns 1 when it is granted, and the task may then run a second
   * thread (kept until the task ends).
   */
  readonly spareCore?: boolean | undefined;
}

export interface PoolStats {
  /** Tasks that finished in a worker (with a value or an error). */
  readonly completed: number;
  /** Tasks whose worker was terminated at the hard limit (or that were dropped from the queue). */
  readonly terminated: number;
  /** Tasks whose worker went past its heap limit. */
  readonly outOfMemory: number;
  /** Times the pool replaced its workers (task count or footprint reached). */
  readonly recycles: number;
  /** Distinct worker threads this pool has started. */
  readonly workersStarted: number;
  /** Worker threads alive now. */
  readonly workersAlive: number;
}

export interface WorkerPool<T, R> {
  readonly name: string;
  /** Worker threads at most. */
  readonly size: number;
  run(task: T, options?: RunOptions): Promise<R>;
  stats(): PoolStats;
  /** Terminate every worker; tasks still queued or running reject. */
  close(): Promise<void>;
}

export const POOL_DEFAULTS = {
  maxHeapMb: defaults.JOB_MAX_HEAP_MB,
  maxTasksPerWorker: defaults.JOB_MAX_TASKS_PER_WORKER,
  maxRssMb: defaults.JOB_MAX_RSS_MB,
  idleTimeoutMs: 30_000,
} as const;

/** Default pool size and step concurrency: every core. */
export function defaultPoolSize(): number {
  return availableParallelism();
}

const knob = (name: string, suffix: string) => `JOB_${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_${suffix}`;

/**
 * A second slot for one task, granted when nobody else wants one and given back as soon as
 * the worker says it no longer needs it (a core held idle would stall the other pools).
 */
function spareCore(machine: Slots): { readonly flag: Int32Array; end(): void } {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  let held = false;
  let ended = false;
  const giveBack = () => {
    cancel();
    if (held) {
      held = false;
      machine.release();
    }
  };
  const cancel = machine.requestSpare(() => {
    held = true;
    // The worker may have declined meanwhile (on its own thread): then the slot goes straight back.
    if (Atomics.compareExchange(flag, 0, SPARE.asked, SPARE.granted) === SPARE.asked) Atomics.notify(flag, 0);
    else giveBack();
  });
  void (async () => {
    for (let seen = Atomics.load(flag, 0); !ended && seen !== SPARE.declined; seen = Atomics.load(flag, 0)) {
      const wait = (Atomics as unknown as AtomicsWaitAsync).waitAsync(flag, 0, seen);
      if (wait.async) await wait.value;
    }
    if (!ended) giveBack();
  })();
  return {
    flag,
    end() {
      ended = true;
      giveBack();
      // Wake both waiters: the worker's (if it still waits for a grant) and the loop above.
      Atomics.store(flag, 0, SPARE.declined);
      Atomics.notify(flag, 0);
    },
  };
}

/** Node ≥ 22.16 reads a worker thread's heap from outside, even while the thread computes. */
interface HeapReadable {
  getHeapStatistics?(): Promise<{ used_heap_size: number }>;
}
const canWatchHeap = typeof (Worker.prototype as unknown as HeapReadable).getHeapStatistics === 'function';
const HEAP_WATCH_MS = 20;

/**
 * V8 ends a worker at its own heap limit only at best: an allocation that fails on a background
 * thread (a concurrent compile) aborts the whole process instead (nodejs/node#47224; seen here on
 * Node 24, a worker loading TensorFlow.js under a 16 MB cap, 1 run in 6). Where the heap can be
 * read from outside, the pool ends the task at the configured cap itself, and V8's own limit is
 * set well past it, out of reach of anything short of a runaway allocation.
 */
const v8HeapLimitMb = (capMb: number) => (canWatchHeap ? capMb * 2 + 64 : capMb);

/** tinypool's `threads` are its own wrappers, each holding the node:worker_threads Worker. */
interface ThreadWrapper {
  readonly threadId: number;
  readonly thread?: Worker & HeapReadable;
  removeListener?: unknown;
}
const wrappersOf = (pool: Tinypool) => pool.threads as unknown as Array<ThreadWrapper | undefined>;

/**
 * tinypool 2.2's destroy() waits for each worker with events.once(worker, 'exit'), on its own
 * wrapper of the thread, which has no removeListener. events.once calls that when 'error' comes
 * first, as it does for a worker that dies of its heap cap while it is being stopped: the call
 * threw out of Node's exit handling (an uncaught exception), 'exit' never came, and destroy()
 * never ended (seen in CI). With the method in place events.once rejects instead, which is
 * an end like any other here: the worker is gone either way.
 */
async function destroyPool(pool: Tinypool): Promise<void> {
  for (const wrapper of wrappersOf(pool)) {
    const thread = wrapper?.thread;
    if (!wrapper || !thread || typeof wrapper.removeListener === 'function') continue;
    wrapper.removeListener = (event: string, listener: (...args: unknown[]) => void) => thread.removeListener(event, listener);
  }
  await pool.destroy().catch(() => {});
}

const isWorkerOutOfMemory = (err: unknown) => (err as { code?: unknown } | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY';

export function createPool<T extends object, R>(options: PoolOptions): WorkerPool<T, R> {
  const size = Math.max(1, options.size ?? defaultPoolSize());
  const maxHeapMb = options.maxHeapMb ?? POOL_DEFAULTS.maxHeapMb;
  const maxTasks = options.maxTasksPerWorker ?? POOL_DEFAULTS.maxTasksPerWorker;
  const maxRssMb = options.maxRssMb ?? POOL_DEFAULTS.maxRssMb;
  const open = () =>
    new Tinypool({
      filename: options.filename instanceof URL ? options.filename.href : options.filename,
      minThreads: 0,
      maxThreads: size,
      idleTimeout: options.idleTimeoutMs ?? POOL_DEFAULTS.idleTimeoutMs,
      // An idle worker blocked in Atomics.wait cannot run its timers (tesseract's own thread talks to it).
      useAtomics: false,
      resourceLimits: { maxOldGenerationSizeMb: v8HeapLimitMb(maxHeapMb) },
      workerData: options.workerData,
    });
  /**
   * Workers are recycled by generation: new tasks go to a fresh Tinypool while the old one's
   * running tasks finish, then the old one is destroyed. (tinypool's own recycleWorkers() can
   * remove a worker that is still starting up, stranding the tasks queued for it.)
   */
  interface Generation {
    readonly pool: Tinypool;
    running: number;
    retired: boolean;
    /** Fail a task of this generation that no worker has begun (see start). */
    readonly unstarted: Set<(err: unknown) => void>;
  }
  const generations = new Set<Generation>();
  const start = (): Generation => {
    const gen: Generation = { pool: open(), running: 0, retired: false, unstarted: new Set() };
    // A worker that dies before it is ready (past its heap cap while it loads its libraries) is
    // reported on the pool, not to a task: unheard, that 'error' ended the process. tinypool then
    // starts no worker for the tasks queued behind it, which would wait for their hard limit; they
    // fail with that worker's error instead.
    gen.pool.on('error', (err: unknown) => {
      for (const fail of gen.unstarted) fail(err);
    });
    generations.add(gen);
    return gen;
  };
  let current = start();
  const retiring = new Set<Promise<void>>();
  const counts = { completed: 0, terminated: 0, outOfMemory: 0, recycles: 0 };
  const seen = new Set<number>();
  let closed = false;
  // tinypool unrefs a worker that is starting up: a task queued for it would not keep the
  // process alive, and a short script (or a test) would exit with the task still pending.
  let pending = 0;
  let keepAlive: NodeJS.Timeout | undefined;
  const hold = () => {
    if (pending++ === 0) keepAlive = setInterval(() => {}, 1 << 30);
  };
  const release = () => {
    if (--pending === 0) clearInterval(keepAlive);
  };

  // At most `size` tasks are handed to tinypool at once; the rest wait here, so that a recycle
  // leaves no queued task behind on the retiring generation's workers.
  const own = new Slots(size);
  const machine = options.machine;

  const destroyWhenIdle = (gen: Generation) => {
    if (!gen.retired || gen.running > 0) return;
    generations.delete(gen);
    const done = destroyPool(gen.pool);
    retiring.add(done);
    void done.finally(() => retiring.delete(done));
  };
  const recycle = (gen: Generation) => {
    if (gen !== current || closed) return;
    counts.recycles++;
    gen.retired = true;
    current = start();
    destroyWhenIdle(gen);
  };
  const alive = () => [...generations].reduce((n, g) => n + g.pool.threads.length, 0);

  function outOfMemory(cause: unknown): NightshiftError {
    return new NightshiftError(
      ErrorCodes.STEP_OUT_OF_MEMORY,
      `${options.name} ran out of memory: its worker went past its heap limit of ${maxHeapMb} MB and was stopped. ` +
        `Raise ${knob(options.name, 'MAX_HEAP_MB')}, or lower MAX_IMAGE_PIXELS so that smaller images are accepted`,
      { cause },
    );
  }

  /** Every HEAP_WATCH_MS, read the heap of the thread running a task; past the cap, call `over`. */
  function watchHeap(gen: Generation, thread: Int32Array, over: () => void): { stop(): void } | undefined {
    if (!canWatchHeap) return undefined;
    const capBytes = maxHeapMb * 1_048_576;
    let reading = false;
    const timer = setInterval(() => {
      const id = Atomics.load(thread, 0);
      const worker = id === 0 || reading ? undefined : wrappersOf(gen.pool).find((t) => t?.threadId === id)?.thread;
      if (!worker?.getHeapStatistics) return;
      reading = true;
      worker
        .getHeapStatistics()
        .then((heap) => heap.used_heap_size > capBytes && over())
        .catch(() => {}) // the thread ended meanwhile
        .finally(() => (reading = false));
    }, HEAP_WATCH_MS);
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  async function run(task: T, runOptions: RunOptions = {}): Promise<R> {
    if (closed) throw new NightshiftError(ErrorCodes.ABORTED, `the ${options.name} pool is closed`);
    const { signal, softSignal, clock } = runOptions;
    if (signal?.aborted) throw abortReason(signal);
    clock?.hold();
    await own.acquire(signal);
    try {
      await machine?.acquire(signal);
    } catch (err) {
      own.release();
      throw err;
    }
    let input: T = task;
    const spare = runOptions.spareCore === true && machine ? spareCore(machine) : undefined;
    if (spare) input = { ...input, spare: spare.flag };
    const started = new Int32Array(new SharedArrayBuffer(4));
    input = { ...input, started };
    if (clock) {
      const wait = (Atomics as unknown as AtomicsWaitAsync).waitAsync(started, 0, 0);
      if (!wait.async) clock.restart();
      else void wait.value.then(() => Atomics.load(started, 0) !== 0 && clock.restart());
    }
    let onSoft: (() => void) | undefined;
    if (softSignal) {
      const flag = new Int32Array(new SharedArrayBuffer(4));
      onSoft = () => {
        Atomics.store(flag, 0, 1);
        Atomics.notify(flag, 0);
      };
      if (softSignal.aborted) onSoft();
      else softSignal.addEventListener('abort', onSoft, { once: true });
      input = { ...input, softAbort: flag };
    }
    let answer: TaskAnswer<R>;
    const gen = current;
    const failed = new AbortController();
    const fail = (err: unknown) => {
      if (Atomics.load(started, 0) !== 0 || failed.signal.aborted) return;
      failed.abort(isWorkerOutOfMemory(err) ? outOfMemory(err) : err instanceof Error ? err : new Error(String(err)));
    };
    gen.unstarted.add(fail);
    const thread = new Int32Array(new SharedArrayBuffer(4));
    input = { ...input, thread };
    const heap = watchHeap(gen, thread, () => failed.signal.aborted || failed.abort(outOfMemory(new Error(`heap past ${maxHeapMb} MB`))));
    gen.running++;
    hold();
    try {
      const running = gen.pool.run(input, {
        signal: signal ? AbortSignal.any([signal, failed.signal]) : failed.signal,
        ...(runOptions.transferList ? { transferList: runOptions.transferList } : {}),
      }) as Promise<TaskAnswer<R>>;
      for (const t of gen.pool.threads) if (t) seen.add(t.threadId);
      answer = await running;
    } catch (err) {
      if (signal?.aborted) {
        counts.terminated++;
        throw abortReason(signal);
      }
      if (failed.signal.aborted) {
        if (errorCode(failed.signal.reason) === ErrorCodes.STEP_OUT_OF_MEMORY) counts.outOfMemory++;
        throw failed.signal.reason as Error;
      }
      if (isWorkerOutOfMemory(err)) {
        counts.outOfMemory++;
        throw outOfMemory(err);
      }
      throw err instanceof Error ? err : new Error(String(err));
    } finally {
      // Our own spare request must not take the slot this task gives back.
      spare?.end();
      machine?.release();
      own.release();
      heap?.stop();
      gen.unstarted.delete(fail);
      gen.running--;
      destroyWhenIdle(gen);
      release();
      if (onSoft) softSignal?.removeEventListener('abort', onSoft);
      // Wake the waiter of a task that ended before it started (an error while warming up).
      if (Atomics.load(started, 0) === 0) Atomics.notify(started, 0);
    }
    counts.completed++;
    seen.add(answer.stats.threadId);
    if (answer.stats.tasks >= maxTasks || answer.stats.footprintMb >= maxRssMb) recycle(gen);
    if (answer.ok) return answer.value;
    // A task stopped by the engine's soft limit fails with that limit's own reason (STEP_TIMEOUT
    // naming the knob) rather than the worker's generic abort; other reasons keep the worker's error.
    if (softSignal?.aborted && softSignal.reason instanceof NightshiftError) throw softSignal.reason;
    const { message, code, permanent, stack } = answer.error;
    const err = permanent && code ? new PermanentError(code, message) : code ? new NightshiftError(code, message) : new Error(message);
    if (stack) err.stack = stack;
    throw err;
  }

  return {
    name: options.name,
    size,
    run,
    stats: () => ({ ...counts, workersStarted: seen.size, workersAlive: alive() }),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...[...generations].map((g) => destroyPool(g.pool)), ...retiring]);
      generations.clear();
    },
  };
}
