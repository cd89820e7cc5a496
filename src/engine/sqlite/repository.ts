import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import type { JobId, JobParameters, JobRepository, JobRepositoryOptions, JobsOverview, JobsQueryOptions, JobsResult, RemoveJobsOptions } from 'agenda';
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';

import type { BulkJobRepository, NewJob } from '../bulk.js';
import { whereFromOptions } from './filters.js';
import { jobsOverview, queryJobs } from './queries.js';
import { type JobRow, ms, rowToJob, type SqlValue } from './rows.js';
import { saveJob } from './save.js';
import { assertIdentifier, createSchema } from './schema.js';

/** Rows per INSERT statement of a bulk insert (9 parameters each). */
const BULK_CHUNK = 500;

export interface SqliteRepositoryOptions {
  /** Database file; its directory is created if missing. `:memory:` works for one process. */
  readonly path: string;
  /** Jobs table (default `agenda_jobs`); `<table>_wakeups` sits beside it. */
  readonly tableName?: string;
  /** Job log table (default `agenda_logs`). */
  readonly logTableName?: string;
  /** How long a write waits for another process's write lock, ms (default 10 000). */
  readonly busyTimeoutMs?: number;
  /**
   * `NORMAL` (default) syncs the WAL at checkpoints only: a crash of the process loses nothing,
   * a power cut may lose the last commits. `FULL` syncs every commit (about 3x slower saves).
   */
  readonly synchronous?: 'NORMAL' | 'FULL';
}

/**
 * Agenda's JobRepository on one better-sqlite3 connection. Several processes may share the
 * file: every write that reads before it writes runs in a `BEGIN IMMEDIATE` transaction, which
 * takes SQLite's single write lock first, so lock-and-claim and unique upserts are atomic
 * across processes. Calls are synchronous underneath; each is one short transaction.
 */
export class SqliteJobRepository implements JobRepository, BulkJobRepository {
  readonly table: string;
  readonly wakeupTable: string;
  readonly logTable: string;
  private database: Database | undefined;
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly options: SqliteRepositoryOptions) {
    this.table = assertIdentifier(options.tableName ?? 'agenda_jobs');
    this.wakeupTable = assertIdentifier(`${this.table}_wakeups`);
    this.logTable = assertIdentifier(options.logTableName ?? 'agenda_logs');
  }

  get db(): Database {
    if (!this.database) throw new Error('SQLite job repository is not connected');
    return this.database;
  }

  get isConnected(): boolean {
    return this.database !== undefined;
  }

  /** A cached prepared statement (preparing costs more than most of these queries). */
  prep<R = unknown>(sql: string): Statement<unknown[], R> {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt as Statement<unknown[], R>;
  }

  /**
   * Runs fn inside BEGIN IMMEDIATE … COMMIT (rolled back if it throws). Cached statements rather
   * than db.transaction(fn), which builds a wrapper per call; fn must not nest transactions.
   */
  immediate<T>(fn: () => T): T {
    this.prep('BEGIN IMMEDIATE').run();
    try {
      const result = fn();
      this.prep('COMMIT').run();
      return result;
    } catch (err) {
      if (this.db.inTransaction) this.prep('ROLLBACK').run();
      throw err;
    }
  }

  async connect(): Promise<void> {
    if (this.database) return;
    const { path } = this.options;
    if (path !== ':memory:' && !path.startsWith('file:')) mkdirSync(dirname(path), { recursive: true });
    const db = new BetterSqlite3(path);
    try {
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(this.options.busyTimeoutMs ?? 10_000))}`);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${this.options.synchronous ?? 'NORMAL'}`);
      // Each job run rewrites a few pages three times; checkpointing every 1,000 pages (the
      // default) put a checkpoint, with its fsync, in one of every ~80 runs. 10,000 pages (40 MB
      // of WAL) cuts that tenfold; the WAL file is truncated back to 64 MB after a checkpoint.
      db.pragma('wal_autocheckpoint = 10000');
      db.pragma('journal_size_limit = 67108864');
      db.transaction(() => createSchema(db, this.table, this.logTable)).immediate();
    } catch (err) {
      db.close();
      throw err;
    }
    this.database = db;
  }

  async disconnect(): Promise<void> {
    this.statements.clear();
    this.database?.close();
    this.database = undefined;
  }

  async getJobById(id: string): Promise<JobParameters | null> {
    const row = this.prep<JobRow>(`SELECT * FROM "${this.table}" WHERE id = ?`).get(id);
    return row ? rowToJob(row) : null;
  }

  async queryJobs(options: JobsQueryOptions = {}): Promise<JobsResult> {
    return queryJobs(this, options);
  }

  async getJobsOverview(): Promise<JobsOverview[]> {
    return jobsOverview(this);
  }

  async getDistinctJobNames(): Promise<string[]> {
    return this.prep<{ name: string }>(`SELECT DISTINCT name FROM "${this.table}" ORDER BY name`)
      .all()
      .map((r) => r.name);
  }

  async getQueueSize(): Promise<number> {
    return this.prep<{ n: number }>(`SELECT COUNT(*) AS n FROM "${this.table}" WHERE next_run_at < ?`).get(Date.now())!.n;
  }

  async removeJobs(options: RemoveJobsOptions): Promise<number> {
    const where = whereFromOptions(options);
    if (!where) return 0;
    return this.prep(`DELETE FROM "${this.table}" WHERE ${where.sql}`).run(...where.params).changes;
  }

  async disableJobs(options: RemoveJobsOptions): Promise<number> {
    return this.setDisabled(options, true);
  }

  async enableJobs(options: RemoveJobsOptions): Promise<number> {
    return this.setDisabled(options, false);
  }

  private setDisabled(options: RemoveJobsOptions, disabled: boolean): number {
    const where = whereFromOptions(options);
    if (!where) return 0;
    return this.immediate(() => {
      const rows = this.prep<{ name: string; next_run_at: number | null }>(
        `UPDATE "${this.table}" SET disabled = ?, updated_at = ? WHERE ${where.sql} RETURNING name, next_run_at`,
      ).all(disabled ? 1 : 0, Date.now(), ...where.params);
      // Enabled jobs may be due now: wake the workers of other processes.
      if (!disabled) for (const r of rows) this.recordWakeup(r.name, r.next_run_at);
      return rows.length;
    });
  }

  async purgeAllJobs(): Promise<number> {
    return this.prep(`DELETE FROM "${this.table}"`).run().changes;
  }

  async unlockJob(job: JobParameters): Promise<void> {
    if (!job._id) return;
    // A job whose nextRunAt is null is being processed right now and keeps its lock.
    this.prep(`UPDATE "${this.table}" SET locked_at = NULL, updated_at = ? WHERE id = ? AND next_run_at IS NOT NULL`).run(Date.now(), job._id.toString());
  }

  async unlockJobs(jobIds: (JobId | string)[]): Promise<void> {
    if (jobIds.length === 0) return;
    const ids = jobIds.map(String);
    this.prep(`UPDATE "${this.table}" SET locked_at = NULL, updated_at = ? WHERE id IN (${ids.map(() => '?').join(', ')})`).run(Date.now(), ...ids);
  }

  async lockJob(job: JobParameters, options: JobRepositoryOptions | undefined): Promise<JobParameters | undefined> {
    if (!job._id) return undefined;
    const now = Date.now();
    const row = this.immediate(() =>
      this.prep<JobRow>(
        `UPDATE "${this.table}" SET locked_at = ?, last_modified_by = ?, updated_at = ?
         WHERE id = ? AND name = ? AND locked_at IS NULL AND next_run_at = ? AND disabled = 0 RETURNING *`,
      ).get(now, options?.lastModifiedBy ?? null, now, job._id!.toString(), job.name, ms(job.nextRunAt)),
    );
    return row ? rowToJob(row) : undefined;
  }

  /**
   * The next job of `jobName` to run, locked: due and unlocked (nextRunAt ≤ nextScanAt), or
   * locked before lockDeadline (its worker died), in nextRunAt order then priority; the read
   * and the claim share one write transaction.
   */
  async getNextJobToRun(
    jobName: string,
    nextScanAt: Date,
    lockDeadline: Date,
    now: Date | undefined,
    options: JobRepositoryOptions | undefined,
  ): Promise<JobParameters | undefined> {
    const find = this.prep<{ id: string }>(
      `SELECT id FROM (
         SELECT * FROM (SELECT id, next_run_at, priority FROM "${this.table}"
           WHERE name = @name AND disabled = 0 AND locked_at IS NULL AND next_run_at <= @scan
           ORDER BY next_run_at ASC, priority DESC LIMIT 1)
         UNION ALL
         SELECT * FROM (SELECT id, next_run_at, priority FROM "${this.table}"
           WHERE name = @name AND disabled = 0 AND locked_at <= @deadline
           ORDER BY next_run_at ASC NULLS LAST, priority DESC LIMIT 1)
       ) ORDER BY next_run_at ASC NULLS LAST, priority DESC LIMIT 1`,
    );
    const params = { name: jobName, scan: nextScanAt.getTime(), deadline: lockDeadline.getTime() };
    const lockTime = (now ?? new Date()).getTime();
    const row = this.immediate(() => {
      const candidate = find.get(params);
      if (!candidate) return undefined;
      return this.prep<JobRow>(`UPDATE "${this.table}" SET locked_at = ?, last_modified_by = ?, updated_at = ? WHERE id = ? RETURNING *`).get(
        lockTime,
        options?.lastModifiedBy ?? null,
        Date.now(),
        candidate.id,
      );
    });
    return row ? rowToJob(row) : undefined;
  }

  async saveJobState(job: JobParameters, options: JobRepositoryOptions | undefined): Promise<void> {
    if (!job._id) throw new Error('Cannot save job state without job ID');
    const changes = this.prep(
      `UPDATE "${this.table}" SET locked_at = ?, next_run_at = ?, last_run_at = ?, progress = ?, fail_reason = ?,
         fail_count = ?, failed_at = ?, last_finished_at = ?, last_modified_by = ?, updated_at = ?
       WHERE id = ? AND name = ?`,
    ).run(
      ms(job.lockedAt),
      ms(job.nextRunAt),
      ms(job.lastRunAt),
      job.progress ?? null,
      job.failReason ?? null,
      job.failCount ?? null,
      ms(job.failedAt),
      ms(job.lastFinishedAt),
      options?.lastModifiedBy ?? null,
      Date.now(),
      job._id.toString(),
      job.name,
    ).changes;
    if (changes !== 1) {
      throw new Error(`job ${job._id} (name: ${job.name}) cannot be updated in the database, maybe it does not exist anymore?`);
    }
  }

  async saveJob<DATA = unknown>(job: JobParameters<DATA>, options: JobRepositoryOptions | undefined): Promise<JobParameters<DATA>> {
    return saveJob(this, job, options);
  }

  /**
   * Many one-off jobs in one write transaction: a multi-row INSERT per 500 rows, and one
   * wake-up per job name for the enabled ones (so workers start them at once).
   */
  async insertJobs(jobs: readonly NewJob[], lastModifiedBy: string | null): Promise<number> {
    if (jobs.length === 0) return 0;
    const now = Date.now();
    const cols = 'id, name, priority, type, data, disabled, next_run_at, last_modified_by, created_at, updated_at';
    const row = "(?, ?, ?, 'normal', ?, ?, ?, ?, ?, ?)";
    return this.immediate(() => {
      const earliest = new Map<string, number>();
      for (let i = 0; i < jobs.length; i += BULK_CHUNK) {
        const chunk = jobs.slice(i, i + BULK_CHUNK);
        const params: SqlValue[] = [];
        for (const j of chunk) {
          const at = j.nextRunAt.getTime();
          params.push(randomUUID(), j.name, j.priority, JSON.stringify(j.data ?? null), j.disabled ? 1 : 0, at, lastModifiedBy, now, now);
          if (!j.disabled && at < (earliest.get(j.name) ?? Infinity)) earliest.set(j.name, at);
        }
        this.prep(`INSERT INTO "${this.table}" (${cols}) VALUES ${chunk.map(() => row).join(', ')}`).run(...params);
      }
      for (const [name, at] of earliest) this.recordWakeup(name, at);
      return jobs.length;
    });
  }

  /** Inside a write transaction: tell other processes' channels that `name` may have a job due. */
  recordWakeup(name: string, nextRunAt: number | null): void {
    if (nextRunAt === null) return;
    this.prep(
      `INSERT INTO "${this.wakeupTable}" (name, seq, next_run_at)
       VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM "${this.wakeupTable}"), ?)
       ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, next_run_at = excluded.next_run_at`,
    ).run(name, nextRunAt);
  }
}
