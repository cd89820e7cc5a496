/**
 * What operators see and set: the workers registry (one row per running process, refreshed by
 * its heartbeat) and the stored controls (pauses) every worker obeys.
 */

/** A job run under way in a worker, as its heartbeat reports it. */
export interface RunningJob {
  readonly job: string;
  readonly jobId: string;
  /** The file it works on (process-file and the steps), else null. */
  readonly fileId: string | null;
  readonly startedAt: Date;
  /** 1-based attempt number. */
  readonly attempt: number;
}

/** What a process writes about itself on every heartbeat. */
export interface WorkerBeat {
  /** The engine's process name, `${host}:${pid}:${role}`: also the `lastModifiedBy` of its locks. */
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly role: string;
  /** The jobs it serves (empty for the api role). */
  readonly jobs: readonly string[];
  /** Sum of the concurrency of the jobs it serves. */
  readonly concurrency: number;
  readonly running: readonly RunningJob[];
  readonly startedAt: Date;
  /** nightshift's version (package.json). */
  readonly version: string;
  /** Its heartbeat interval, ms: three missed beats make it stale. */
  readonly heartbeatMs: number;
}

/**
 * alive: beat within 3 intervals; stale: missed 3 beats (its locks are released). A stale row
 * is removed a day after its last beat ("gone"); a worker that stops cleanly removes its own.
 */
export type WorkerState = 'alive' | 'stale';

export interface WorkerRecord extends WorkerBeat {
  readonly heartbeatAt: Date;
  readonly state: WorkerState;
  /** When another process released this (stale) worker's locks; null while alive. */
  readonly locksReleasedAt: Date | null;
}

/** Beats missed before a worker is stale. */
export const STALE_AFTER_BEATS = 3;

export function workerState(heartbeatAt: Date, heartbeatMs: number, now: Date): WorkerState {
  return now.getTime() - heartbeatAt.getTime() > STALE_AFTER_BEATS * heartbeatMs ? 'stale' : 'alive';
}

export interface WorkerRepo {
  /** Insert or refresh this worker's row (heartbeatAt = now; clears locksReleasedAt). */
  beat(worker: WorkerBeat, now: Date): Promise<void>;
  /** Every recorded worker with its state at `now`, by id. */
  list(now: Date): Promise<WorkerRecord[]>;
  /** Record that a stale worker's locks were released (so the sweep does it once). */
  markReleased(id: string, at: Date): Promise<void>;
  remove(id: string): Promise<void>;
  /** Remove workers whose last beat is before `before`; returns rows removed. */
  purge(before: Date): Promise<number>;
}

/**
 * A stored control: `job:<name>` pauses one job type, `pipeline` pauses process-file and every
 * step, `schedule:<name>` pauses one periodic job's schedule. Present: paused; absent: not.
 */
export interface Control {
  readonly key: string;
  /** Who set it (e.g. `cli:alice@host`, `api`). */
  readonly by: string | null;
  readonly at: Date;
}

export interface ControlRepo {
  /** Set a control (idempotent: a second set keeps the first time). */
  set(key: string, by: string | null, now: Date): Promise<void>;
  /** Clear it; false if it was not set. */
  clear(key: string): Promise<boolean>;
  list(): Promise<Control[]>;
}

/** Which files a bulk operation selects; every field narrows. */
export interface FileFilter {
  readonly status?: 'uploaded' | 'processing' | 'completed' | 'failed' | undefined;
  readonly owner?: string | undefined;
  /** Files with this step failed. */
  readonly failedStep?: string | undefined;
  readonly uploadedBefore?: Date | undefined;
  readonly uploadedAfter?: Date | undefined;
}
