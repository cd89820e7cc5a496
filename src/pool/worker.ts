/**
 * The worker side of a pool (src/pool/pool.ts): a pool worker's entry file exports
 * `default poolTask(handler)`. The wrapper counts the worker's tasks, reports its memory, and
 * carries errors across the thread boundary by value (structured clone keeps only an Error's
 * message, so a PermanentError would otherwise come back as a plain, retried Error).
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { isMainThread, threadId } from 'node:worker_threads';

import { type ErrorCode, ErrorCodes, NightshiftError, PermanentError } from '../errors.js';

/**
 * Step work runs at a lower CPU priority than the main thread, so that while every core decodes,
 * infers and recognises, the event loop (HTTP, the engine's locks, heartbeats) still runs the
 * moment it has something to do. Threads a worker starts (tesseract's) inherit it. 19 rather
 * than 10: /healthz p99 while the bench's mix ran was 22–24 ms against 27–39 ms (measured).
 */
const WORKER_NICE = 19;

function lowerPriority(): void {
  if (isMainThread) return;
  try {
    // Linux: /proc/thread-self names this thread's own id, which setpriority(2) accepts.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, WORKER_NICE);
  } catch {
    // Elsewhere, or not permitted: the work runs at normal priority.
  }
}
lowerPriority();

/** What a pool worker reports with every answer. */
export interface WorkerStats {
  readonly threadId: number;
  /** Tasks this worker has finished, this one included. */
  readonly tasks: number;
  /**
   * This worker's own memory, MB: its V8 heap plus memory outside it (ArrayBuffers, WebAssembly
   * memories). A thread's RSS cannot be told apart from the process's, so this is its footprint.
   */
  readonly footprintMb: number;
}

export interface SerialisedError {
  readonly message: string;
  readonly code: ErrorCode | undefined;
  readonly permanent: boolean;
  readonly stack: string | undefined;
}

export type TaskAnswer<R> =
  { readonly ok: true; readonly value: R; readonly stats: WorkerStats } | { readonly ok: false; readonly error: SerialisedError; readonly stats: WorkerStats };

/**
 * A pool task's input carries two flags, each one Int32 in shared memory: `softAbort`, set by
 * the main thread at the soft limit; `started`, set by the worker once its models are loaded
 * and the task's own work begins (the main thread starts the attempt's limits then).
 */
export interface SoftAbortable {
  readonly softAbort?: Int32Array | undefined;
  readonly started?: Int32Array | undefined;
  /** The worker stores its threadId here when the task reaches it: the pool watches that thread's heap. */
  readonly thread?: Int32Array | undefined;
  /** Turns SPARE.granted when the pool grants this task a second core (RunOptions.spareCore); absent: no such limit. */
  readonly spare?: Int32Array | undefined;
}

/** A task's `spare` flag (RunOptions.spareCore): asked, granted by the pool, declined by the worker. */
export const SPARE = { asked: 0, granted: 1, declined: 2 } as const;

/** The task will not use a second core: one granted to it would sit idle, so it goes back to the pool. */
export function declineSpare(flag: Int32Array | undefined): void {
  if (!flag) return;
  Atomics.store(flag, 0, SPARE.declined);
  Atomics.notify(flag, 0);
}

/** Atomics.waitAsync (Node 16+, ES2024): not in this project's TypeScript lib. */
export interface AtomicsWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs?: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

let tasks = 0;

function stats(): WorkerStats {
  const m = process.memoryUsage();
  return { threadId, tasks, footprintMb: Math.round((m.heapTotal + m.external) / 1_048_576) };
}

function serialise(err: unknown): SerialisedError {
  if (err instanceof Error) {
    return { message: err.message, code: err instanceof NightshiftError ? err.code : undefined, permanent: err instanceof PermanentError, stack: err.stack };
  }
  return { message: String(err), code: undefined, permanent: false, stack: undefined };
}

/**
 * An AbortSignal inside the worker that fires once the main thread sets `flag` and notifies
 * (the soft time limit): library code that takes a signal stops between its phases.
 */
export function softSignal(flag: Int32Array | undefined, message: string): { signal: AbortSignal | undefined; dispose(): void } {
  if (!flag) return { signal: undefined, dispose() {} };
  const controller = new AbortController();
  const abort = () => controller.abort(new NightshiftError(ErrorCodes.STEP_TIMEOUT, message));
  if (Atomics.load(flag, 0) !== 0) {
    abort();
    return { signal: controller.signal, dispose() {} };
  }
  let disposed = false;
  const wait = (Atomics as unknown as AtomicsWaitAsync).waitAsync(flag, 0, 0);
  if (wait.async) {
    void wait.value.then(() => {
      if (!disposed && Atomics.load(flag, 0) !== 0) abort();
    });
  } else if (Atomics.load(flag, 0) !== 0) abort();
  return {
    signal: controller.signal,
    dispose() {
      disposed = true;
      // Wake the waiter so it does not outlive the task.
      Atomics.notify(flag, 0);
    },
  };
}

/**
 * Wrap a worker's handler for the pool: the default export of a pool worker entry file.
 * `warm` loads what the worker keeps between tasks (models, tesseract); it runs before the
 * task is marked started, so a cold worker's start-up is not counted against the task's limit.
 */
export function poolTask<T extends SoftAbortable, R>(handler: (task: T) => Promise<R>, warm?: (task: T) => Promise<void>): (task: T) => Promise<TaskAnswer<R>> {
  return async (task) => {
    if (task.thread) Atomics.store(task.thread, 0, threadId);
    try {
      if (warm) await warm(task);
      if (task.started) {
        Atomics.store(task.started, 0, 1);
        Atomics.notify(task.started, 0);
      }
      const value = await handler(task);
      tasks++;
      return { ok: true, value, stats: stats() };
    } catch (err) {
      tasks++;
      return { ok: false, error: serialise(err), stats: stats() };
    }
  };
}

/** Bytes that crossed a thread boundary arrive as a Uint8Array: a Buffer view over the same memory. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
