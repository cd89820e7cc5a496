/** Read-side queries for housekeeping: stuck steps, daily summaries, storage usage. */

export interface RunningStep {
  readonly fileId: string;
  readonly step: string;
  readonly attempts: number;
  readonly heartbeatAt: Date | null;
  readonly startedAt: Date | null;
}

export interface ActivitySummary {
  /** Files uploaded in [from, to). */
  readonly uploaded: number;
  /** Files that reached completed / failed in [from, to). */
  readonly completed: number;
  readonly failed: number;
  /** completedAt - startedAt (ms) of files finished in [from, to), ascending. */
  readonly processingMs: readonly number[];
  /** Most frequent failure reasons of files failed in [from, to), most first, at most 5. */
  readonly topFailures: ReadonlyArray<{ readonly reason: string; readonly count: number }>;
  /** 24 (or more) hourly buckets from `from`: uploads and failures per hour. */
  readonly hourly: ReadonlyArray<{ readonly hour: Date; readonly uploads: number; readonly failures: number }>;
}

export interface ReportQueries {
  /** Steps in status running whose heartbeat is older than `heartbeatBefore` (oldest first). */
  findRunningSteps(heartbeatBefore: Date, limit: number): Promise<RunningStep[]>;
  /** Files in `processing` whose startedAt is before `before` and which have no running or pending step left unqueued — callers decide. */
  findProcessingFiles(startedBefore: Date, limit: number): Promise<Array<{ id: string; owner: string | null; startedAt: Date | null }>>;
  /** Owners (non-null) with any upload or finish in [from, to). */
  ownersWithActivity(from: Date, to: Date): Promise<string[]>;
  /** Activity of one owner, or of everyone when owner is null. */
  summarize(owner: string | null, from: Date, to: Date): Promise<ActivitySummary>;
  /** Bytes stored per owner: originals plus derived blobs (thumbnails). Owners with no files are absent. */
  usageByOwner(): Promise<Map<string, number>>;
  usageOf(owner: string): Promise<number>;
  /** Record derived bytes (a thumbnail) against a file, counted in its owner's usage. */
  addDerivedBytes(fileId: string, bytes: number): Promise<void>;
  /** Of these file ids, the ones that exist (for orphan-blob detection). */
  existingFileIds(ids: readonly string[]): Promise<Set<string>>;
  /** How many files are in each status (nightshift_files); statuses with none are absent. */
  countFilesByStatus(): Promise<Record<string, number>>;
}
