import type { OutboxEntry } from './outbox-types.js';
import type { FileStatus, StepRecord } from './types.js';

/** A step embedded in its file's document. */
export type StepDoc = { -readonly [K in keyof StepRecord]: StepRecord[K] };

export interface FileDoc {
  _id: string;
  owner: string | null;
  filename: string;
  contentType: string;
  size: number;
  /** Bytes of derived blobs (thumbnails); absent on files written before it existed. */
  derivedBytes?: number;
  blobKey: string;
  status: FileStatus;
  error: string | null;
  uploadedAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  /** Steps embedded in the store's step order, so every step change is a single-document update. */
  steps: StepDoc[];
  /** Bumped by startProcessing and resetForReprocess: finalizeFile only writes the run it read. */
  rev: number;
  /**
   * The transactional outbox without a multi-document transaction: the outbox entries of the
   * final status, written by the same single-document update as the status, then materialized
   * into the notifications collection and removed (by the settling process, or the sweeper
   * after a crash). One element per settlement not yet materialized; `token` tells them apart.
   */
  pendingOutbox?: PendingOutbox[];
}

export interface PendingOutbox {
  token: string;
  entries: OutboxEntry[];
}
