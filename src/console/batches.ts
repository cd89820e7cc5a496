import { randomUUID } from 'node:crypto';

import type { Store } from '../store/types.js';

/** A bulk reprocess started from the console, watched until its files settle. */
export interface Batch {
  readonly id: string;
  /** What was reprocessed, e.g. the failure reason. */
  readonly label: string;
  readonly fileIds: readonly string[];
  readonly startedAt: Date;
  enqueued: number | null;
}

export interface BatchProgress {
  readonly batch: Batch;
  /** Files of the batch that are completed or failed again (and were started after the batch began). */
  readonly settled: number;
  readonly failed: number;
  readonly running: number;
  readonly total: number;
}

/** Files of a batch whose progress is followed (the rest are reprocessed but not counted). */
const WATCHED = 200;
/** Batches kept for the Failures page, newest first. */
const KEPT = 5;

/** The console's recent bulk reprocesses, in this process's memory (they are a view of the files, which are stored). */
export function createBatches() {
  const list: Batch[] = [];
  return {
    start(label: string, fileIds: readonly string[]): Batch {
      const batch: Batch = { id: randomUUID(), label, fileIds, startedAt: new Date(), enqueued: null };
      list.unshift(batch);
      list.length = Math.min(list.length, KEPT);
      return batch;
    },
    recent(): readonly Batch[] {
      return list;
    },
    async progress(store: Store, batch: Batch): Promise<BatchProgress> {
      const ids = batch.fileIds.slice(0, WATCHED);
      const files = await Promise.all(ids.map((id) => store.getFile(id)));
      let settled = 0;
      let failed = 0;
      let running = 0;
      for (const f of files) {
        if (!f) continue;
        const again = f.startedAt !== null && f.startedAt >= batch.startedAt;
        if (again && (f.status === 'completed' || f.status === 'failed')) {
          settled++;
          if (f.status === 'failed') failed++;
        } else running++;
      }
      return { batch, settled, failed, running, total: ids.length };
    },
  };
}

export type Batches = ReturnType<typeof createBatches>;
