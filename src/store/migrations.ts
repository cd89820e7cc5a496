import { type Kysely, type Migration, Migrator, sql } from 'kysely';

import { ErrorCodes, NightshiftError, toError } from '../errors.js';
import type { Logger } from '../logger.js';
import { ownersOutboxUsage } from './migration-0002.js';
import { jobRuns } from './migration-0003.js';
import { ownerAddresses } from './migration-0004-owner-addresses.js';
import { operations } from './migration-0005-operations.js';
import { lineEvents } from './migration-0006-line-events.js';
import { outboxRetry } from './migration-0008-outbox-retry.js';
import type { SqlKind } from './schema.js';

/**
 * The schema history. Append new entries with a name that sorts after the last one
 * (`0002_owners`, …); never edit or reorder an entry that has shipped. Column types that differ
 * between the engines come from `kind`.
 */
export function migrations(kind: SqlKind): Record<string, Migration> {
  const json = kind === 'postgres' ? sql`jsonb` : sql`text`;
  return {
    '0001_files_and_steps': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('files')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('owner', 'text')
          .addColumn('filename', 'text', (c) => c.notNull())
          .addColumn('content_type', 'text', (c) => c.notNull())
          .addColumn('size', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('blob_key', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('uploaded', 'processing', 'completed', 'failed')`))
          .addColumn('error', 'text')
          .addColumn('uploaded_at', 'bigint', (c) => c.notNull())
          .addColumn('started_at', 'bigint')
          .addColumn('completed_at', 'bigint')
          .execute();
        // Keyset paging, unfiltered and per status / per owner; the owner index also serves the
        // daily summary's per-owner uploaded_at ranges.
        await db.schema.createIndex('files_uploaded_idx').on('files').columns(['uploaded_at desc', 'id desc']).execute();
        await db.schema.createIndex('files_status_uploaded_idx').on('files').columns(['status', 'uploaded_at desc', 'id desc']).execute();
        await db.schema.createIndex('files_owner_uploaded_idx').on('files').columns(['owner', 'uploaded_at desc', 'id desc']).execute();
        // Daily summary by completion time: covering, and only over finished files.
        await db.schema
          .createIndex('files_completed_idx')
          .on('files')
          .columns(['completed_at', 'owner', 'status'])
          .where(sql.ref('completed_at'), 'is not', null)
          .execute();

        await db.schema
          .createTable('file_steps')
          .addColumn('file_id', 'text', (c) => c.notNull().references('files.id').onDelete('cascade'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('position', 'integer', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'running', 'completed', 'failed', 'skipped')`))
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('duration_ms', 'integer')
          .addColumn('error', 'text')
          .addColumn('started_at', 'bigint')
          .addColumn('finished_at', 'bigint')
          .addColumn('heartbeat_at', 'bigint')
          .addColumn('result', json)
          .addPrimaryKeyConstraint('file_steps_pk', ['file_id', 'name'])
          .execute();
        // The stuck-file sweep: running steps whose last heartbeat is older than a cutoff.
        await db.schema
          .createIndex('file_steps_running_heartbeat_idx')
          .on('file_steps')
          .column('heartbeat_at')
          .where(sql.ref('status'), '=', sql.lit('running'))
          .execute();
      },
    },
    '0002_owners_outbox_usage': ownersOutboxUsage(kind),
    '0003_job_runs': jobRuns(kind),
    '0004_owner_addresses': ownerAddresses(),
    '0005_workers_controls': operations(kind),
    '0006_line_events': lineEvents(),
    '0008_outbox_retry': outboxRetry(),
  };
}

/**
 * Apply pending migrations. PostgreSQL: Kysely's migrator takes a session advisory lock and runs
 * each migration in a transaction. SQLite: Kysely's lock is a no-op (it assumes one connection),
 * so the whole run happens inside BEGIN IMMEDIATE on a dedicated connection (its own, so no
 * unrelated query joins the transaction), which excludes every other writer: other processes
 * and other stores in this process alike. The connection waits for the lock (see connect.ts).
 */
export async function runMigrations(db: Kysely<unknown>, kind: SqlKind, log: Logger): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations(kind) },
    migrationTableName: 'nightshift_migrations',
    migrationLockTableName: 'nightshift_migrations_lock',
    disableTransactions: kind === 'sqlite',
  });
  if (kind === 'sqlite') await sql.raw('begin immediate').execute(db);
  const { error, results } = await migrator.migrateToLatest();
  if (kind === 'sqlite') await sql.raw(error === undefined ? 'commit' : 'rollback').execute(db);
  for (const r of results ?? []) log.info({ migration: r.migrationName, status: r.status }, 'store migration');
  if (error !== undefined) {
    throw new NightshiftError(ErrorCodes.STORE_UNAVAILABLE, `store migration failed: ${toError(error).message}`, {
      status: 503,
      cause: error,
    });
  }
}
