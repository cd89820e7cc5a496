import type { Kysely, Migration } from 'kysely';

/**
 * Owners' addresses on channels that keep them in the generic map (a Slack incoming-webhook
 * URL, …): one row per owner and channel, so a new notifier needs no new column. Email and
 * LINE keep their own columns on `owners`.
 */
export function ownerAddresses(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('owner_addresses')
        .addColumn('owner_id', 'text', (c) => c.notNull().references('owners.id').onDelete('cascade'))
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('owner_addresses_pk', ['owner_id', 'channel'])
        .execute();
    },
  };
}
