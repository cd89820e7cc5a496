import { FILE_BLOB_PREFIXES, fileIdOfKey } from '../blobs/keys.js';
import type { BlobStore } from '../blobs/types.js';
import type { ReportQueries } from '../store/report-types.js';

const BATCH = 500;

/**
 * Delete blobs under originals/ and thumbnails/ whose file record is gone and which were last
 * written before `olderThan` (a blob younger than that may belong to an upload whose record is
 * being written right now). Checked in batches, so memory stays flat over a large bucket.
 */
export async function purgeOrphanBlobs(blobs: BlobStore, reports: ReportQueries, olderThan: Date, signal?: AbortSignal): Promise<number> {
  let purged = 0;
  let batch: Array<{ key: string; fileId: string }> = [];
  const flush = async () => {
    const existing = await reports.existingFileIds([...new Set(batch.map((b) => b.fileId))]);
    for (const b of batch) {
      if (existing.has(b.fileId)) continue;
      await blobs.delete(b.key);
      purged++;
    }
    batch = [];
  };
  for (const prefix of FILE_BLOB_PREFIXES) {
    for await (const blob of blobs.list(prefix)) {
      signal?.throwIfAborted();
      const fileId = fileIdOfKey(blob.key);
      if (fileId === undefined || blob.lastModified.getTime() >= olderThan.getTime()) continue;
      batch.push({ key: blob.key, fileId });
      if (batch.length >= BATCH) await flush();
    }
  }
  if (batch.length > 0) await flush();
  return purged;
}
