import type { ControlRepo, FileFilter, WorkerRepo } from './ops-types.js';
import type { NotificationRecord, OutboxEntry, OutboxRepo } from './outbox-types.js';
import type { OwnerRepo } from './owner-types.js';
import type { ReportQueries } from './report-types.js';
import type { RunRepo } from './run-types.js';

/**
 * The domain store: files and their processing steps. One interface, a SQL implementation
 * (SQLite and PostgreSQL through Kysely) and a MongoDB implementation. Agenda's job records
 * live elsewhere (the engine); this holds what users ask about.
 */

export type FileStatus = 'uploaded' | 'processing' | 'completed' | 'failed';
export const FILE_STATUSES: readonly FileStatus[] = ['uploaded', 'processing', 'completed', 'failed'];

/**
 * What each step records on its file, keyed by step name. Each step file adds its entry,
 * inferred from its result schema (`declare module '…/store/types.js' { interface StepResults
 * { ocr: … } }`), so every reader of a step's result is type-checked against what it returns.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface StepResults {}
export type StepName = keyof StepResults & string;
/** pending: queued, not started; running: an attempt is under way; skipped: not applicable to this file (its type, or a step that found nothing to do: OCR on a photo; the reason is in `error`). */
export type StepStatus = 'pending' | 'running' | 'completed' | 'failed' | 'skipped';

export interface StepRecord {
  readonly name: StepName;
  readonly status: StepStatus;
  /** Attempts started so far (an attempt counts when it begins). */
  readonly attempts: number;
  /** Wall time of the last finished attempt, ms. */
  readonly durationMs: number | null;
  /** Reason of the last failed attempt, for a person to read. */
  readonly error: string | null;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  /** Last sign of life from a running attempt (set at start and by heartbeats). */
  readonly heartbeatAt: Date | null;
  /** What the step produced, JSON-serialisable; null until completed. */
  readonly result: Record<string, unknown> | null;
}

export interface FileRecord {
  readonly id: string;
  readonly owner: string | null;
  /** The uploader's name for the file, sanitised (no path separators or control characters). */
  readonly filename: string;
  /** Declared type at upload, replaced by the sniffed type once processing starts. */
  readonly contentType: string;
  readonly size: number;
  /** Key of the original in blob storage. */
  readonly blobKey: string;
  readonly status: FileStatus;
  /** Why the file failed, naming the step: "ocr: image is truncated". */
  readonly error: string | null;
  readonly uploadedAt: Date;
  readonly startedAt: Date | null;
  readonly completedAt: Date | null;
  /** In the order startProcessing was given them (the registry's order); empty before. */
  readonly steps: readonly StepRecord[];
}

export interface NewFile {
  readonly id: string;
  readonly owner: string | null;
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
  readonly blobKey: string;
}

export interface ListFilesQuery {
  readonly status?: FileStatus | undefined;
  readonly owner?: string | undefined;
  /** 1..500 */
  readonly limit: number;
  /** Opaque cursor returned as nextCursor by the previous page. */
  readonly cursor?: string | undefined;
  /** Uploaded at or after this time (the console's date filter). */
  readonly uploadedAfter?: Date | undefined;
  /** Uploaded before this time. */
  readonly uploadedBefore?: Date | undefined;
  /** Filename contains this text, case-insensitively (the console's search). */
  readonly filenameContains?: string | undefined;
}

export interface FilePage {
  /** Newest first (uploadedAt desc, id desc). */
  readonly items: FileRecord[];
  readonly nextCursor: string | null;
}

export type StepOutcome =
  | { readonly status: 'completed'; readonly durationMs: number; readonly result: Record<string, unknown> }
  | { readonly status: 'failed'; readonly durationMs: number; readonly error: string }
  /** The attempt failed but another will follow: back to pending, error kept for display. */
  | { readonly status: 'pending'; readonly durationMs: number; readonly error: string }
  /** The step found nothing to do for this file (OCR on an image without text); `error` says why. */
  | { readonly status: 'skipped'; readonly durationMs: number; readonly error: string };

/**
 * Plans the notifications of a file's final status from the record as it will be once written
 * (status, error, completedAt set). Called before the write; what it returns is committed with
 * the status, or not at all.
 */
export type OutboxPlanner = (file: FileRecord) => Promise<readonly OutboxEntry[]>;

/** A file moved to its final status, with the outbox rows created with it (they need delivery jobs). */
export type SettledFile = FileRecord & { readonly notifications: readonly NotificationRecord[] };

/** What deleteFile did: the record as it was (its blob keys, to remove), or why nothing was deleted. */
export type DeleteFileOutcome = { readonly status: 'deleted'; readonly file: FileRecord } | { readonly status: 'busy' } | { readonly status: 'missing' };

export interface Store {
  readonly kind: 'sqlite' | 'postgres' | 'mongodb';
  /** Owners, their channels and quota state. */
  readonly owners: OwnerRepo;
  /** Notification outbox and delivery log. */
  readonly outbox: OutboxRepo;
  /** Housekeeping reads: stuck steps, summaries, usage. */
  readonly reports: ReportQueries;
  /** Periodic job runs: one per (job, occurrence), with what each did. */
  readonly runs: RunRepo;
  /** Every running process, refreshed by its heartbeat. */
  readonly workers: WorkerRepo;
  /** The operator's stored pauses. */
  readonly controls: ControlRepo;
  /** Create tables/indexes (idempotent, safe for several processes at once). */
  migrate(): Promise<void>;
  /** Throws if the store cannot answer a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;

  createFile(file: NewFile): Promise<FileRecord>;
  getFile(id: string): Promise<FileRecord | null>;
  listFiles(query: ListFilesQuery): Promise<FilePage>;
  /** Ids of the files matching the filter, ascending, after `afterId`, at most `limit` (bulk operations page with it). */
  findFileIds(filter: FileFilter, limit: number, afterId?: string): Promise<string[]>;
  /** Files per status (every status present, 0 when none). */
  countFilesByStatus(): Promise<Record<FileStatus, number>>;

  /**
   * uploaded → processing: sets the sniffed content type, startedAt, and (re)creates the step rows
   * with the given initial statuses. Returns false if the file is missing or not `uploaded`.
   */
  startProcessing(id: string, contentType: string, steps: ReadonlyArray<{ name: StepName; status: 'pending' | 'skipped' }>): Promise<boolean>;
  /**
   * completed|failed → uploaded, clearing error/result/steps, for a reprocess: one conditional
   * update, so of concurrent callers exactly one gets true. Returns false if the file is missing,
   * `processing`, or already `uploaded` (queued: a second claim would start a second run).
   */
  resetForReprocess(id: string): Promise<boolean>;
  /** resetForReprocess for many files in one statement per call; returns the ids that were reset. */
  resetManyForReprocess(ids: readonly string[]): Promise<string[]>;

  /** Mark a step running and count the attempt (attempts + 1, startedAt, heartbeatAt = now). */
  startStep(id: string, step: StepName): Promise<void>;
  heartbeatStep(id: string, step: StepName): Promise<void>;
  finishStep(id: string, step: StepName, outcome: StepOutcome): Promise<void>;

  /**
   * If the file is `processing` and no step is pending or running, move it to `completed`
   * (no step failed) or `failed` (error = "<step>: <reason>" of the first failed step) and
   * return the new record. Exactly one concurrent caller gets the record; the others get null.
   * The outbox entries `outbox` plans are written atomically with the status: one transaction
   * (SQL); on MongoDB the same single-document update stores them on the file as pending, and
   * they are materialized into the outbox (idempotently, by key) right after and by the sweeper
   * (materializeOutbox) should the process die first.
   */
  finalizeFile(id: string, outbox?: OutboxPlanner): Promise<SettledFile | null>;
  /**
   * Force a file to `failed` with a reason, from any non-final status, with its outbox entries
   * (as finalizeFile). Returns the record if it changed.
   */
  failFile(id: string, reason: string, outbox?: OutboxPlanner): Promise<SettledFile | null>;
  /**
   * Outbox entries committed with a file's final status but not yet in the outbox (MongoDB, after
   * a crash between the two): write them now, idempotently. Returns the rows created. SQL stores
   * commit both together and return [].
   */
  materializeOutbox(limit: number): Promise<NotificationRecord[]>;
  /**
   * A retry of one failed step (Agendash's retry of its job): failed → processing with the error
   * cleared, that step back to `pending` (attempts kept), the other steps as they were. False
   * unless the file is `failed` and this step is `failed`.
   */
  reopenStep(id: string, step: StepName): Promise<boolean>;
  /**
   * Remove a file's record and its steps in one conditional statement (its usage drops with it).
   * A `processing` file is refused (`busy`) unless `force`. The blobs are the caller's to remove,
   * from the returned record.
   */
  deleteFile(id: string, options?: { readonly force?: boolean }): Promise<DeleteFileOutcome>;
}
