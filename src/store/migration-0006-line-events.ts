import type { Kysely, Migration } from 'kysely';

/**
 * LINE webhook replay protection: the `webhookEventId`s already applied (kept a bounded time,
 * see claimLineEvent) and, per owner, the timestamp of the last LINE event applied to them, so
 * an event older than that (a replayed `follow`) changes nothing.
 */
export function lineEvents(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('owners').addColumn('line_event_at', 'bigint').execute();
      await db.schema
        .createTable('line_webhook_events')
        .addColumn('event_id', 'text', (c) => c.primaryKey())
        .addColumn('seen_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('line_webhook_events_seen_idx').on('line_webhook_events').column('seen_at').execute();
    },
  };
}
