import type { Engine } from '../engine/engine.js';
import type { FileStatus, Store } from '../store/types.js';

export interface JobStats {
  /** Due and waiting for a worker (paused ones included: they are counted again under `paused`). */
  readonly queued: number;
  readonly running: number;
  /** Waiting for a later run time (retries with backoff, scheduled). */
  readonly scheduled: number;
  readonly failed: number;
  /** Stored disabled: paused by the operator. */
  readonly paused: number;
}

export interface OpsStats {
  readonly files: Record<FileStatus, number>;
  readonly jobs: Record<string, JobStats>;
  readonly workers: { readonly alive: number; readonly stale: number };
}

/** What `GET /api/v1/stats` and `nightshift status` show: files by status, queue per job, workers. */
export async function opsStats(store: Store, engine: Engine, jobNames: readonly string[]): Promise<OpsStats> {
  const [files, overview, workers] = await Promise.all([store.countFilesByStatus(), engine.maintenance.overview(), store.workers.list(new Date())]);
  const jobs: Record<string, JobStats> = {};
  for (const name of jobNames) jobs[name] = { queued: 0, running: 0, scheduled: 0, failed: 0, paused: 0 };
  for (const o of overview) {
    if (!(o.name in jobs)) continue;
    jobs[o.name] = { queued: Number(o.queued), running: Number(o.running), scheduled: Number(o.scheduled), failed: Number(o.failed), paused: Number(o.paused) };
  }
  return {
    files,
    jobs,
    // Processes that take work: the api role only enqueues.
    workers: { alive: workers.filter((w) => w.state === 'alive' && w.role !== 'api').length, stale: workers.filter((w) => w.state === 'stale').length },
  };
}
