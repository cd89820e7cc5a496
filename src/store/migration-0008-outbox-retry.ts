import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Deliveries outlive outages: the retry window (NOTIFY_RETRY_FOR) counts from a row's first
 * attempt, not its creation, so a message held by quiet hours or a digest window keeps its
 * whole window. A channel coming back wakes its waiting rows by channel (the wake index).
 */
export function outboxRetry(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('notifications').addColumn('first_attempt_at', 'bigint').execute();
      await db.schema
        .createIndex('notifications_wake_idx')
        .on('notifications')
        .columns(['channel', 'created_at', 'id'])
        .where(sql.ref('status'), '=', sql.lit('failed'))
        .execute();
    },
  };
}
