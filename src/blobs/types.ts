import type { Readable } from 'node:stream';

/**
 * Blob storage: originals and derived files (thumbnails). Streams in and out, never whole
 * files in memory. Keys are relative paths of `[A-Za-z0-9._-]` segments joined by `/`;
 * anything else (`..`, absolute paths, control characters) is rejected with INVALID_KEY.
 */
export interface BlobInfo {
  readonly key: string;
  readonly size: number;
  readonly contentType: string | undefined;
  readonly lastModified: Date;
}

export interface PutOptions {
  readonly contentType?: string | undefined;
  /** Abort the write (the partial blob is removed). */
  readonly signal?: AbortSignal | undefined;
}

export interface GetOptions {
  /** Read only the blob's first `firstBytes` bytes (all of a shorter blob): sniffing a type needs no more. At least 1. */
  readonly firstBytes?: number | undefined;
}

export interface BlobStore {
  readonly kind: 'local' | 's3';
  /** Write a blob from a stream, replacing any blob at that key. Resolves with the bytes written. */
  put(key: string, body: Readable | Buffer, options?: PutOptions): Promise<{ size: number }>;
  /** Read a blob. Rejects with BLOB_NOT_FOUND if there is none. */
  get(key: string, options?: GetOptions): Promise<Readable>;
  /** Metadata, or null if there is no blob at that key. */
  head(key: string): Promise<BlobInfo | null>;
  /** Remove a blob; removing a missing blob is not an error. */
  delete(key: string): Promise<void>;
  /** Every blob whose key starts with prefix, in no particular order. */
  list(prefix: string): AsyncIterable<BlobInfo>;
  /**
   * A URL that GETs the blob without credentials for `expiresInSeconds` (S3 presigned URLs,
   * at most 7 days; LINK_MODE=presigned). Absent where the storage cannot make one (local).
   */
  presignGet?(key: string, expiresInSeconds: number): Promise<string>;
  /** Throws if the storage cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
