import { type Kysely, type Migration, sql } from 'kysely';

import type { SqlKind } from './schema.js';

/** The workers registry and the operator's stored controls (pauses). */
export function operations(kind: SqlKind): Migration {
  const json = kind === 'postgres' ? sql`jsonb` : sql`text`;
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('workers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('pid', 'integer', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('jobs', json, (c) => c.notNull())
        .addColumn('concurrency', 'integer', (c) => c.notNull())
        .addColumn('running', json, (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('heartbeat_ms', 'integer', (c) => c.notNull())
        .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
        .addColumn('locks_released_at', 'bigint')
        .execute();
      await db.schema
        .createTable('controls')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('by', 'text')
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      // Bulk reprocess by failed step: the failed steps of one name.
      await db.schema
        .createIndex('file_steps_failed_idx')
        .on('file_steps')
        .columns(['name', 'file_id'])
        .where(sql.ref('status'), '=', sql.lit('failed'))
        .execute();
    },
  };
}
