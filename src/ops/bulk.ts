import type { Config } from '../config.js';
import type { Engine } from '../engine/engine.js';
import type { JobName } from '../engine/payloads.js';
import type { Logger } from '../logger.js';
import type { NotifyHub } from '../notify/hub.js';
import { failFile } from '../pipeline/settle.js';
import type { FileFilter } from '../store/ops-types.js';
import type { StepName, Store } from '../store/types.js';

/** Files read, reset and enqueued per round of a bulk reprocess. */
const BATCH = 1_000;

export const PURGED_REASON = 'purged by operator';

export interface BulkDeps {
  readonly store: Store;
  readonly engine: Engine;
  readonly notify: NotifyHub;
  readonly config: Config;
  readonly steps: readonly StepName[];
  readonly log: Logger;
}

/** Progress of a bulk operation: done so far of total. */
export type Progress = (done: number, total: number) => void;

/**
 * Reprocess every file matching the filter: its ids first (so the total is known and the pages
 * do not shift under the resets), then per batch one reset statement and one bulk enqueue of
 * process-file. Files being processed right now are skipped. Returns the files enqueued.
 */
export async function reprocessFiles(deps: BulkDeps, filter: FileFilter, onProgress?: Progress): Promise<number> {
  const ids: string[] = [];
  for (let page = await deps.store.findFileIds(filter, BATCH); page.length > 0; page = await deps.store.findFileIds(filter, BATCH, page.at(-1))) {
    ids.push(...page);
  }
  const enqueued = await reprocessFileIds(deps, ids, onProgress);
  deps.log.info({ filter, matched: ids.length, enqueued }, 'bulk reprocess');
  return enqueued;
}

/** Reprocess these files (the console's failure groups): per batch one reset and one bulk enqueue; busy files are skipped. */
export async function reprocessFileIds(deps: BulkDeps, ids: readonly string[], onProgress?: Progress): Promise<number> {
  let enqueued = 0;
  onProgress?.(0, ids.length);
  for (let i = 0; i < ids.length; i += BATCH) {
    const reset = await deps.store.resetManyForReprocess(ids.slice(i, i + BATCH));
    enqueued += await deps.engine.enqueueMany(
      'process-file',
      reset.map((fileId) => ({ fileId })),
    );
    onProgress?.(Math.min(i + BATCH, ids.length), ids.length);
  }
  return enqueued;
}

/**
 * Remove the jobs of a type that wait to run. Files whose work is purged (process-file or a
 * step) end `failed` with "<job>: purged by operator" and the owner is told; cleanup's
 * lost-work check only looks at uploaded and processing files, so nothing re-enqueues them.
 */
export async function purgeJobs(deps: BulkDeps, job: JobName, onProgress?: Progress): Promise<{ purged: number; filesFailed: number }> {
  const payloads = await deps.engine.maintenance.removeWaiting(job);
  const fileWork = job === 'process-file' || deps.steps.includes(job as StepName);
  let filesFailed = 0;
  for (const [i, data] of payloads.entries()) {
    const fileId = data.fileId;
    if (fileWork && typeof fileId === 'string') {
      const reason = `${job}: ${PURGED_REASON}`;
      if (job !== 'process-file') await deps.store.finishStep(fileId, job as StepName, { status: 'failed', durationMs: 0, error: PURGED_REASON });
      const before = await deps.store.getFile(fileId);
      await failFile(deps, fileId, reason, deps.log);
      if (before && (before.status === 'uploaded' || before.status === 'processing')) filesFailed++;
    }
    onProgress?.(i + 1, payloads.length);
  }
  deps.log.warn({ job, purged: payloads.length, filesFailed }, 'jobs purged by operator');
  return { purged: payloads.length, filesFailed };
}
