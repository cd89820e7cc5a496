import { type ExpressionBuilder, type Kysely, sql, type Transaction } from 'kysely';

import { ErrorCodes, NightshiftError } from '../errors.js';
import type { Logger } from '../logger.js';
import { openPostgres, openSqlite } from './connect.js';
import { encodeCursor, parseListQuery } from './cursor.js';
import { finalOutcome, readyToFinalize } from './final.js';
import { runMigrations } from './migrations.js';
import type { FileFilter } from './ops-types.js';
import type { NotificationRecord } from './outbox-types.js';
import { fileFromRow, type FileRow, type StepRow, uploadedAtMs } from './rows.js';
import type { Database, SqlKind } from './schema.js';
import { SqlControls, SqlWorkers } from './sql-ops.js';
import { SqlOutbox } from './sql-outbox.js';
import { SqlOwners } from './sql-owners.js';
import { SqlReports } from './sql-reports.js';
import { SqlRuns } from './sql-runs.js';
import { orderSteps, type StepOrder } from './step-order.js';
import {
  type DeleteFileOutcome,
  FILE_STATUSES,
  type FilePage,
  type FileRecord,
  type FileStatus,
  type ListFilesQuery,
  type NewFile,
  type OutboxPlanner,
  type SettledFile,
  type StepName,
  type StepOutcome,
  type Store,
} from './types.js';

const UNFINISHED = ['pending', 'running'] as const;

/** The run a file was read in: its started_at, null included. */
const sameRun = (startedAt: Date | null) => (eb: ExpressionBuilder<Database, 'files'>) =>
  startedAt === null ? eb('started_at', 'is', null) : eb('started_at', '=', startedAt.getTime());

/**
 * The Store over Kysely: the same queries for SQLite and PostgreSQL. State changes that must not
 * race are single conditional statements (or an IMMEDIATE / row-locked transaction), so several
 * processes can share one database.
 */
export class SqlStore implements Store {
  readonly kind: SqlKind;
  readonly owners: SqlOwners;
  readonly outbox: SqlOutbox;
  readonly reports: SqlReports;
  readonly runs: SqlRuns;
  readonly workers: SqlWorkers;
  readonly controls: SqlControls;
  readonly #db: Kysely<Database>;
  readonly #migrate: () => Promise<void>;
  readonly #stepOrder: StepOrder;

  constructor(kind: SqlKind, db: Kysely<Database>, migrate: () => Promise<void>, stepOrder: StepOrder = []) {
    this.kind = kind;
    this.#stepOrder = stepOrder;
    this.#db = db;
    this.#migrate = migrate;
    this.owners = new SqlOwners(db);
    this.outbox = new SqlOutbox(kind, db);
    this.reports = new SqlReports(db);
    this.runs = new SqlRuns(db);
    this.workers = new SqlWorkers(db);
    this.controls = new SqlControls(db);
  }

  migrate(): Promise<void> {
    return this.#migrate();
  }

  async ping(): Promise<void> {
    try {
      await sql`select 1`.execute(this.#db);
    } catch (err) {
      throw new NightshiftError(ErrorCodes.STORE_UNAVAILABLE, `${this.kind} store is not answering: ${(err as Error).message}`, {
        status: 503,
        cause: err,
      });
    }
  }

  async close(): Promise<void> {
    await this.#db.destroy();
  }

  async createFile(file: NewFile): Promise<FileRecord> {
    const row = await this.#db
      .insertInto('files')
      .values({
        id: file.id,
        owner: file.owner,
        filename: file.filename,
        content_type: file.contentType,
        size: file.size,
        blob_key: file.blobKey,
        status: 'uploaded',
        error: null,
        uploaded_at: Date.now(),
        started_at: null,
        completed_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return fileFromRow(row, []);
  }

  async getFile(id: string): Promise<FileRecord | null> {
    const row = await this.#db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? this.#withSteps(row) : null;
  }

  async listFiles(query: ListFilesQuery): Promise<FilePage> {
    const { limit, after } = parseListQuery(query);
    let q = this.#db.selectFrom('files').selectAll();
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    if (query.owner !== undefined) q = q.where('owner', '=', query.owner);
    if (query.uploadedAfter !== undefined) q = q.where('uploaded_at', '>=', query.uploadedAfter.getTime());
    if (query.uploadedBefore !== undefined) q = q.where('uploaded_at', '<', query.uploadedBefore.getTime());
    if (query.filenameContains !== undefined) {
      const pattern = `%${query.filenameContains.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      q = q.where((eb) => eb(eb.fn('lower', ['filename']), 'like', sql<string>`${pattern} escape '\\'`));
    }
    if (after) q = q.where((eb) => eb(eb.refTuple('uploaded_at', 'id'), '<', eb.tuple(after.uploadedAt, after.id)));
    const rows = await q
      .orderBy('uploaded_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    const page = rows.slice(0, limit);
    const steps = new Map<string, StepRow[]>();
    if (page.length > 0) {
      const stepRows = await this.#db
        .selectFrom('file_steps')
        .selectAll()
        .where(
          'file_id',
          'in',
          page.map((r) => r.id),
        )
        .orderBy('file_id')
        .orderBy('position')
        .execute();
      for (const s of stepRows) {
        const list = steps.get(s.file_id);
        if (list) list.push(s);
        else steps.set(s.file_id, [s]);
      }
    }
    const last = page.at(-1);
    return {
      items: page.map((r) => fileFromRow(r, steps.get(r.id) ?? [])),
      nextCursor: rows.length > limit && last ? encodeCursor({ uploadedAt: uploadedAtMs(last), id: last.id }) : null,
    };
  }

  async findFileIds(filter: FileFilter, limit: number, afterId?: string): Promise<string[]> {
    let q = this.#db.selectFrom('files').select('id');
    if (filter.status !== undefined) q = q.where('status', '=', filter.status);
    if (filter.owner !== undefined) q = q.where('owner', '=', filter.owner);
    if (filter.uploadedBefore !== undefined) q = q.where('uploaded_at', '<', filter.uploadedBefore.getTime());
    if (filter.uploadedAfter !== undefined) q = q.where('uploaded_at', '>=', filter.uploadedAfter.getTime());
    const step = filter.failedStep;
    if (step !== undefined) {
      q = q.where((eb) =>
        eb.exists(
          eb
            .selectFrom('file_steps')
            .select('file_steps.position')
            .whereRef('file_steps.file_id', '=', 'files.id')
            .where('file_steps.name', '=', step as StepName)
            .where('file_steps.status', '=', 'failed'),
        ),
      );
    }
    if (afterId !== undefined) q = q.where('id', '>', afterId);
    const rows = await q.orderBy('id').limit(limit).execute();
    return rows.map((r) => r.id);
  }

  async countFilesByStatus(): Promise<Record<FileStatus, number>> {
    const rows = await this.#db
      .selectFrom('files')
      .select((eb) => ['status', eb.fn.countAll<number | string>().as('n')])
      .groupBy('status')
      .execute();
    const counts = Object.fromEntries(FILE_STATUSES.map((s) => [s, 0])) as Record<FileStatus, number>;
    for (const r of rows) counts[r.status] = Number(r.n);
    return counts;
  }

  async startProcessing(id: string, contentType: string, steps: ReadonlyArray<{ name: StepName; status: 'pending' | 'skipped' }>): Promise<boolean> {
    const ordered = orderSteps(steps, this.#stepOrder);
    return this.#db.transaction().execute(async (trx) => {
      const moved = await trx
        .updateTable('files')
        .set({ status: 'processing', content_type: contentType, started_at: Date.now(), completed_at: null, error: null })
        .where('id', '=', id)
        .where('status', '=', 'uploaded')
        .returning('id')
        .executeTakeFirst();
      if (!moved) return false;
      await trx.deleteFrom('file_steps').where('file_id', '=', id).execute();
      if (ordered.length > 0) {
        await trx
          .insertInto('file_steps')
          .values(
            ordered.map((s) => ({
              file_id: id,
              name: s.name,
              position: ordered.indexOf(s),
              status: s.status,
              attempts: 0,
              duration_ms: null,
              error: null,
              started_at: null,
              finished_at: null,
              heartbeat_at: null,
              result: null,
            })),
          )
          .execute();
      }
      return true;
    });
  }

  async resetForReprocess(id: string): Promise<boolean> {
    return this.#db.transaction().execute(async (trx: Transaction<Database>) => {
      const reset = await trx
        .updateTable('files')
        .set({ status: 'uploaded', error: null, started_at: null, completed_at: null, derived_bytes: 0 })
        .where('id', '=', id)
        // Only from a final status: the one statement is the claim, so of concurrent callers exactly one wins.
        .where('status', 'in', ['completed', 'failed'])
        .returning('id')
        .executeTakeFirst();
      if (!reset) return false;
      await trx.deleteFrom('file_steps').where('file_id', '=', id).execute();
      return true;
    });
  }

  async resetManyForReprocess(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    return this.#db.transaction().execute(async (trx: Transaction<Database>) => {
      const reset = await trx
        .updateTable('files')
        .set({ status: 'uploaded', error: null, started_at: null, completed_at: null, derived_bytes: 0 })
        .where('id', 'in', [...ids])
        .where('status', '!=', 'processing')
        .returning('id')
        .execute();
      const resetIds = reset.map((r) => r.id);
      if (resetIds.length > 0) await trx.deleteFrom('file_steps').where('file_id', 'in', resetIds).execute();
      return resetIds;
    });
  }

  async startStep(id: string, step: StepName): Promise<void> {
    const now = Date.now();
    // 'running' too: a worker that died mid-attempt leaves the step running, and its retry restarts it.
    await this.#db
      .updateTable('file_steps')
      .set((eb) => ({ status: 'running', attempts: eb('attempts', '+', 1), started_at: now, heartbeat_at: now }))
      .where('file_id', '=', id)
      .where('name', '=', step)
      .where('status', 'in', UNFINISHED)
      .execute();
  }

  async heartbeatStep(id: string, step: StepName): Promise<void> {
    await this.#db
      .updateTable('file_steps')
      .set({ heartbeat_at: Date.now() })
      .where('file_id', '=', id)
      .where('name', '=', step)
      .where('status', '=', 'running')
      .execute();
  }

  async finishStep(id: string, step: StepName, outcome: StepOutcome): Promise<void> {
    const common = { status: outcome.status, duration_ms: Math.round(outcome.durationMs), finished_at: Date.now() };
    const values = outcome.status === 'completed' ? { ...common, error: null, result: JSON.stringify(outcome.result) } : { ...common, error: outcome.error };
    // A step already final (or removed by a reprocess) is left alone: the report comes from a stale attempt.
    await this.#db.updateTable('file_steps').set(values).where('file_id', '=', id).where('name', '=', step).where('status', 'in', UNFINISHED).execute();
  }

  async finalizeFile(id: string, outbox?: OutboxPlanner): Promise<SettledFile | null> {
    const file = await this.getFile(id);
    if (!file || !readyToFinalize(file)) return null;
    const { status, error } = finalOutcome(file.steps);
    const final: FileRecord = { ...file, status, error, completedAt: new Date() };
    const entries = outbox ? await outbox(final) : [];
    // One transaction: the status and the outbox rows commit together or not at all. The
    // conditional UPDATE (row lock on PostgreSQL, write lock on SQLite) lets exactly one caller
    // see this run (started_at) processing with every step final; the others match nothing.
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('files')
        .set({ status, error, completed_at: final.completedAt!.getTime() })
        .where('id', '=', id)
        .where('status', '=', 'processing')
        .where(sameRun(file.startedAt))
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('file_steps')
                .select('file_steps.position')
                .whereRef('file_steps.file_id', '=', 'files.id')
                .where('file_steps.status', 'in', UNFINISHED),
            ),
          ),
        )
        .returning('id')
        .executeTakeFirst();
      if (!row) return null;
      return { ...final, notifications: await new SqlOutbox(this.kind, trx).write(entries) };
    });
  }

  async deleteFile(id: string, options: { readonly force?: boolean } = {}): Promise<DeleteFileOutcome> {
    return this.#db.transaction().execute(async (trx: Transaction<Database>) => {
      const steps = await trx.selectFrom('file_steps').selectAll().where('file_id', '=', id).orderBy('position').execute();
      let q = trx.deleteFrom('files').where('id', '=', id);
      if (!options.force) q = q.where('status', '!=', 'processing');
      const row = await q.returningAll().executeTakeFirst();
      if (!row) {
        const exists = await trx.selectFrom('files').select('id').where('id', '=', id).executeTakeFirst();
        return { status: exists ? 'busy' : 'missing' };
      }
      await trx.deleteFrom('file_steps').where('file_id', '=', id).execute();
      return { status: 'deleted', file: fileFromRow(row, steps) };
    });
  }

  async failFile(id: string, reason: string, outbox?: OutboxPlanner): Promise<SettledFile | null> {
    // A file that starts processing between the read and the write is read again (its run, and
    // so its notifications' keys, changed); a file that became final is left alone.
    for (let round = 0; round < 5; round++) {
      const file = await this.getFile(id);
      if (!file || (file.status !== 'uploaded' && file.status !== 'processing')) return null;
      const final: FileRecord = { ...file, status: 'failed', error: reason, completedAt: new Date() };
      const entries = outbox ? await outbox(final) : [];
      const settled = await this.#db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable('files')
          .set({ status: 'failed', error: reason, completed_at: final.completedAt!.getTime() })
          .where('id', '=', id)
          .where('status', '=', file.status)
          .where(sameRun(file.startedAt))
          .returning('id')
          .executeTakeFirst();
        if (!row) return null;
        return { ...final, notifications: await new SqlOutbox(this.kind, trx).write(entries) };
      });
      if (settled) return settled;
    }
    return null;
  }

  async materializeOutbox(): Promise<NotificationRecord[]> {
    return [];
  }

  async reopenStep(id: string, step: StepName): Promise<boolean> {
    return this.#db.transaction().execute(async (trx: Transaction<Database>) => {
      const failed = await trx
        .selectFrom('file_steps')
        .select('file_id')
        .where('file_id', '=', id)
        .where('name', '=', step)
        .where('status', '=', 'failed')
        .executeTakeFirst();
      if (!failed) return false;
      const reopened = await trx
        .updateTable('files')
        .set({ status: 'processing', error: null, completed_at: null })
        .where('id', '=', id)
        .where('status', '=', 'failed')
        .returning('id')
        .executeTakeFirst();
      if (!reopened) return false;
      await trx
        .updateTable('file_steps')
        .set({ status: 'pending', error: null, finished_at: null })
        .where('file_id', '=', id)
        .where('name', '=', step)
        .execute();
      return true;
    });
  }

  async #withSteps(row: FileRow): Promise<FileRecord> {
    const steps = await this.#db.selectFrom('file_steps').selectAll().where('file_id', '=', row.id).orderBy('position').execute();
    return fileFromRow(row, steps);
  }
}

export function createSqliteStore(path: string, log: Logger, stepOrder?: StepOrder): SqlStore {
  return new SqlStore(
    'sqlite',
    openSqlite(path),
    async () => {
      // A connection of its own, so the IMMEDIATE transaction spans the whole run (see runMigrations).
      const db = openSqlite(path);
      try {
        await runMigrations(db as Kysely<unknown>, 'sqlite', log);
      } finally {
        await db.destroy();
      }
    },
    stepOrder,
  );
}

export function createPostgresStore(url: string, log: Logger, stepOrder?: StepOrder, onConnectionError?: (err: Error) => void): SqlStore {
  const db = openPostgres(url, log, 10, onConnectionError);
  return new SqlStore('postgres', db, () => runMigrations(db as Kysely<unknown>, 'postgres', log), stepOrder);
}
