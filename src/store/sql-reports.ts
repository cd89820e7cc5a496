import { type Kysely, sql } from 'kysely';

import type { ActivitySummary, ReportQueries, RunningStep } from './report-types.js';
import { toDateOrNull, toNumber } from './rows.js';
import type { Database } from './schema.js';
import { buildSummary, HOUR_MS } from './summary.js';

/** Ids per IN list: well under SQLite's and PostgreSQL's bound-parameter limits. */
const ID_CHUNK = 1000;

/**
 * Housekeeping reads over Kysely. Each query is shaped for one index (see migration 0002 and
 * bench/store-reports.ts for the plans): ranges on epoch-ms columns, counts grouped in SQL,
 * and only the per-file numbers the summary must return (processing times) come back as rows.
 */
export class SqlReports implements ReportQueries {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async findRunningSteps(heartbeatBefore: Date, limit: number): Promise<RunningStep[]> {
    // status = 'running' literally, so both planners match the partial index's predicate.
    const rows = await this.#db
      .selectFrom('file_steps')
      .select(['file_id', 'name', 'attempts', 'heartbeat_at', 'started_at'])
      .where('status', '=', sql.lit('running'))
      .where('heartbeat_at', '<', heartbeatBefore.getTime())
      .orderBy('heartbeat_at')
      .orderBy('file_id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      fileId: r.file_id,
      step: r.name,
      attempts: r.attempts,
      heartbeatAt: toDateOrNull(r.heartbeat_at),
      startedAt: toDateOrNull(r.started_at),
    }));
  }

  async findProcessingFiles(startedBefore: Date, limit: number): Promise<Array<{ id: string; owner: string | null; startedAt: Date | null }>> {
    const rows = await this.#db
      .selectFrom('files')
      .select(['id', 'owner', 'started_at'])
      .where('status', '=', sql.lit('processing'))
      .where('started_at', '<', startedBefore.getTime())
      .orderBy('started_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: r.id, owner: r.owner, startedAt: toDateOrNull(r.started_at) }));
  }

  async ownersWithActivity(from: Date, to: Date): Promise<string[]> {
    const [f, t] = [from.getTime(), to.getTime()];
    const uploaded = this.#db.selectFrom('files').select('owner').where('owner', 'is not', null).where('uploaded_at', '>=', f).where('uploaded_at', '<', t);
    const finished = this.#db.selectFrom('files').select('owner').where('owner', 'is not', null).where('completed_at', '>=', f).where('completed_at', '<', t);
    const rows = await uploaded.union(finished).execute();
    return rows
      .map((r) => r.owner)
      .filter((o): o is string => o !== null)
      .sort();
  }

  async summarize(owner: string | null, from: Date, to: Date): Promise<ActivitySummary> {
    const [f, t] = [from.getTime(), to.getTime()];
    // Literals, not parameters: PostgreSQL then sees one expression in SELECT and GROUP BY.
    const bucketOf = (col: 'uploaded_at' | 'completed_at') => sql<number | string>`(${sql.ref(col)} - ${sql.lit(f)}) / ${sql.lit(HOUR_MS)}`;

    let uploads = this.#db
      .selectFrom('files')
      .select((eb) => [bucketOf('uploaded_at').as('bucket'), eb.fn.countAll<number | string>().as('n')])
      .where('uploaded_at', '>=', f)
      .where('uploaded_at', '<', t);
    let finished = this.#db.selectFrom('files').select(['status', 'started_at', 'completed_at']).where('completed_at', '>=', f).where('completed_at', '<', t);
    let failures = this.#db
      .selectFrom('files')
      .select((eb) => [eb.fn.coalesce('error', sql.lit('unknown')).as('reason'), eb.fn.countAll<number | string>().as('n')])
      .where('completed_at', '>=', f)
      .where('completed_at', '<', t)
      .where('status', '=', sql.lit('failed'));
    if (owner !== null) {
      uploads = uploads.where('owner', '=', owner);
      finished = finished.where('owner', '=', owner);
      failures = failures.where('owner', '=', owner);
    }
    const [uploadRows, finishedRows, failureRows] = await Promise.all([
      uploads.groupBy(bucketOf('uploaded_at')).execute(),
      finished.execute(),
      failures.groupBy('reason').orderBy('n', 'desc').orderBy('reason').limit(5).execute(),
    ]);
    return buildSummary(from, to, {
      uploadsByBucket: uploadRows.map((r) => ({ bucket: toNumber(r.bucket), n: toNumber(r.n) })),
      finished: finishedRows.map((r) => ({
        failed: r.status === 'failed',
        completedAt: toNumber(r.completed_at ?? 0),
        startedAt: r.started_at === null ? null : toNumber(r.started_at),
      })),
      topFailures: failureRows.map((r) => ({ reason: String(r.reason), count: toNumber(r.n) })),
    });
  }

  async usageByOwner(): Promise<Map<string, number>> {
    const rows = await this.#db
      .selectFrom('files')
      .select((eb) => ['owner', eb.fn.sum<number | string>(eb('size', '+', eb.ref('derived_bytes'))).as('bytes')])
      .where('owner', 'is not', null)
      .groupBy('owner')
      .execute();
    const usage = new Map<string, number>();
    for (const r of rows) if (r.owner !== null) usage.set(r.owner, toNumber(r.bytes));
    return usage;
  }

  async usageOf(owner: string): Promise<number> {
    const row = await this.#db
      .selectFrom('files')
      .select((eb) => eb.fn.sum<number | string | null>(eb('size', '+', eb.ref('derived_bytes'))).as('bytes'))
      .where('owner', '=', owner)
      .executeTakeFirst();
    return row?.bytes === null || row?.bytes === undefined ? 0 : toNumber(row.bytes);
  }

  async addDerivedBytes(fileId: string, bytes: number): Promise<void> {
    await this.#db
      .updateTable('files')
      .set({ derived_bytes: sql<number>`derived_bytes + ${bytes}` })
      .where('id', '=', fileId)
      .execute();
  }

  async existingFileIds(ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < ids.length; i += ID_CHUNK) {
      const rows = await this.#db
        .selectFrom('files')
        .select('id')
        .where('id', 'in', ids.slice(i, i + ID_CHUNK))
        .execute();
      for (const r of rows) found.add(r.id);
    }
    return found;
  }

  async countFilesByStatus(): Promise<Record<string, number>> {
    const rows = await this.#db
      .selectFrom('files')
      .select((eb) => ['status', eb.fn.countAll<number | string>().as('n')])
      .groupBy('status')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.status, toNumber(r.n)]));
  }
}
