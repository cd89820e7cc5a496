import { type Kysely, type Migration, sql } from 'kysely';

import type { SqlKind } from './schema.js';

/**
 * Owners (+ one-time link codes), the notification outbox, derived bytes for usage, and the
 * indexes the housekeeping reads need (each checked with EXPLAIN on both engines, see
 * bench/store-reports.ts).
 */
export function ownersOutboxUsage(kind: SqlKind): Migration {
  const json = kind === 'postgres' ? sql`jsonb` : sql`text`;
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('files')
        .addColumn('derived_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      // Replaces 0001's files_completed_idx with one that also carries started_at, so the
      // summary's processing times and finished counts are read from the index alone.
      await db.schema.dropIndex('files_completed_idx').execute();
      await db.schema
        .createIndex('files_finished_idx')
        .on('files')
        .columns(['completed_at', 'status', 'owner', 'started_at'])
        .where(sql.ref('completed_at'), 'is not', null)
        .execute();
      // Per-owner summaries: one owner's finishes without scanning everyone's.
      await db.schema
        .createIndex('files_owner_finished_idx')
        .on('files')
        .columns(['owner', 'completed_at', 'status', 'started_at'])
        .where(sql.ref('completed_at'), 'is not', null)
        .execute();
      // Everyone's top failure reasons in a window: without it both planners pick the status
      // index and read every failed file ever, a set that only grows.
      await db.schema
        .createIndex('files_status_finished_idx')
        .on('files')
        .columns(['status', 'completed_at'])
        .where(sql.ref('completed_at'), 'is not', null)
        .execute();
      // Usage per owner (and the quota check of one owner) as an index-only scan.
      await db.schema.createIndex('files_owner_usage_idx').on('files').columns(['owner', 'size', 'derived_bytes']).execute();
      // Owners active in a window by upload time, without visiting the table rows.
      await db.schema.createIndex('files_uploaded_owner_idx').on('files').columns(['uploaded_at', 'owner']).execute();
      await db.schema
        .createIndex('files_processing_started_idx')
        .on('files')
        .column('started_at')
        .where(sql.ref('status'), '=', sql.lit('processing'))
        .execute();

      await db.schema
        .createTable('owners')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('email', 'text')
        .addColumn('line_user_id', 'text')
        .addColumn('line_following', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('quota_bytes', 'bigint')
        .addColumn('timezone', 'text', (c) => c.notNull().defaultTo('UTC'))
        .addColumn('quiet_hours', json)
        .addColumn('events', json)
        .addColumn('quota_alerts', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('owners_line_user_idx').on('owners').column('line_user_id').where(sql.ref('line_user_id'), 'is not', null).execute();

      await db.schema
        .createTable('owner_link_codes')
        .addColumn('owner_id', 'text', (c) => c.primaryKey())
        .addColumn('code', 'text', (c) => c.notNull().unique())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('notifications')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('key', 'text', (c) => c.notNull().unique())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('recipient', 'text', (c) => c.notNull())
        .addColumn('owner', 'text')
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('queued', 'sent', 'failed', 'dead')`))
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('message', json, (c) => c.notNull())
        .addColumn('digest_key', 'text')
        .addColumn('digest_open', 'integer')
        .addColumn('not_before', 'bigint', (c) => c.notNull())
        .addColumn('lease_until', 'bigint')
        .addColumn('last_error', 'text')
        .addColumn('response', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('sent_at', 'bigint')
        .execute();
      // Keyset paging newest first, unfiltered and under each list filter.
      for (const filter of [null, 'status', 'event', 'channel', 'owner'] as const) {
        const cols = ['created_at desc', 'id desc'];
        await db.schema
          .createIndex(`notifications_${filter ?? 'created'}_idx`)
          .on('notifications')
          .columns(filter ? [filter, ...cols] : cols)
          .execute();
      }
      // The sweeper's due rows; partial, since sent rows (nearly all of them) are never due.
      await db.schema
        .createIndex('notifications_due_idx')
        .on('notifications')
        .columns(['not_before'])
        .where(sql.ref('status'), 'in', sql`('queued', 'failed')`)
        .execute();
      await db.schema.createIndex('notifications_last_idx').on('notifications').columns(['event', 'channel', 'recipient', 'created_at']).execute();
      // One open row per digest key: the arbiter of concurrent first appends.
      await db.schema
        .createIndex('notifications_digest_open_idx')
        .on('notifications')
        .column('digest_key')
        .unique()
        .where(sql.ref('digest_open'), '=', sql.lit(1))
        .execute();
      await db.schema
        .createIndex('notifications_purge_idx')
        .on('notifications')
        .column('updated_at')
        .where(sql.ref('status'), 'in', sql`('sent', 'dead')`)
        .execute();
    },
  };
}
