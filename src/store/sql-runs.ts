import { type Kysely, type Selectable, sql } from 'kysely';

import { parseJson, toDate, toDateOrNull } from './rows.js';
import type { BeginRun, JobRun, RunOutcome, RunRepo } from './run-types.js';
import type { Database, JobRunsTable } from './schema.js';

function runFromRow(r: Selectable<JobRunsTable>): JobRun {
  return {
    job: r.job,
    occurrence: r.occurrence,
    status: r.status,
    worker: r.worker,
    startedAt: toDate(r.started_at),
    finishedAt: toDateOrNull(r.finished_at),
    result: (parseJson(r.result) as Record<string, number> | null) ?? null,
    error: r.error,
  };
}

/** Job runs over Kysely (SQLite and PostgreSQL). */
export class SqlRuns implements RunRepo {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async begin(run: BeginRun): Promise<boolean> {
    const now = Date.now();
    // One statement on the primary key: the insert wins, or the conflict update takes over a
    // failed or stale run; a live or finished run makes the WHERE false and nothing returns.
    const row = await this.#db
      .insertInto('job_runs')
      .values({
        job: run.job,
        occurrence: run.occurrence,
        status: 'running',
        worker: run.worker,
        started_at: now,
        finished_at: null,
        result: null,
        error: null,
      })
      .onConflict((oc) =>
        oc
          .columns(['job', 'occurrence'])
          .doUpdateSet({ status: 'running', worker: run.worker, started_at: now, finished_at: null, result: null, error: null })
          .where((eb) =>
            eb.or([
              eb('job_runs.status', '=', sql.lit('failed')),
              eb.and([eb('job_runs.status', '=', sql.lit('running')), eb('job_runs.started_at', '<', run.staleBefore.getTime())]),
            ]),
          ),
      )
      .returning('job')
      .executeTakeFirst();
    return row !== undefined;
  }

  async finish(job: string, occurrence: string, outcome: RunOutcome): Promise<void> {
    await this.#db
      .updateTable('job_runs')
      .set({
        status: outcome.status,
        finished_at: Date.now(),
        result: outcome.result === undefined ? null : JSON.stringify(outcome.result),
        error: outcome.status === 'failed' ? outcome.error : null,
      })
      .where('job', '=', job)
      .where('occurrence', '=', occurrence)
      .execute();
  }

  async list(job: string, limit: number): Promise<JobRun[]> {
    const rows = await this.#db.selectFrom('job_runs').selectAll().where('job', '=', job).orderBy('started_at', 'desc').limit(limit).execute();
    return rows.map(runFromRow);
  }

  async purge(before: Date): Promise<number> {
    const r = await this.#db.deleteFrom('job_runs').where('started_at', '<', before.getTime()).where('status', '!=', sql.lit('running')).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
