import { type Kysely, type Migration, sql } from 'kysely';

import type { SqlKind } from './schema.js';

/**
 * Periodic job runs. The primary key (job, occurrence) is the second line of defence for
 * "each scheduled occurrence runs once"; the first is the single Agenda row per schedule.
 */
export function jobRuns(kind: SqlKind): Migration {
  const json = kind === 'postgres' ? sql`jsonb` : sql`text`;
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('job_runs')
        .addColumn('job', 'text', (c) => c.notNull())
        .addColumn('occurrence', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('running', 'succeeded', 'failed')`))
        .addColumn('worker', 'text')
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .addColumn('result', json)
        .addColumn('error', 'text')
        .addPrimaryKeyConstraint('job_runs_pk', ['job', 'occurrence'])
        .execute();
      // The latest runs of one job (schedule listing) and the retention purge.
      await db.schema.createIndex('job_runs_job_started_idx').on('job_runs').columns(['job', 'started_at desc']).execute();
      await db.schema.createIndex('job_runs_started_idx').on('job_runs').column('started_at').execute();
    },
  };
}
