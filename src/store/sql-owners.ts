import type { Kysely, Selectable, Updateable } from 'kysely';

import type { Owner, OwnerPatch, OwnerRepo, QuietHours } from './owner-types.js';
import { parseJson, toDate, toNumber } from './rows.js';
import type { Database, OwnersTable } from './schema.js';

type OwnerRow = Selectable<OwnersTable>;

/** Thresholds as stored: sorted, unique, compact JSON, so equal sets compare equal as text. */
export function canonicalAlerts(alerts: readonly number[]): string {
  return JSON.stringify([...new Set(alerts)].sort((a, b) => a - b));
}

function ownerFromRow(r: OwnerRow): Owner {
  const events = parseJson(r.events);
  return {
    id: r.id,
    email: r.email,
    lineUserId: r.line_user_id,
    lineFollowing: toNumber(r.line_following) === 1,
    quotaBytes: r.quota_bytes === null ? null : toNumber(r.quota_bytes),
    timezone: r.timezone,
    quietHours: (parseJson(r.quiet_hours) as QuietHours | null) ?? null,
    events: Array.isArray(events) ? (events as string[]) : null,
    quotaAlerts: JSON.parse(r.quota_alerts) as number[],
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
  };
}

/** The columns a patch sets; absent fields are left out so they keep their stored value. */
function patchColumns(patch: OwnerPatch): Updateable<OwnersTable> {
  const set: Updateable<OwnersTable> = {};
  if (patch.email !== undefined) set.email = patch.email;
  if (patch.lineUserId !== undefined) {
    set.line_user_id = patch.lineUserId;
    set.line_following = patch.lineUserId === null ? 0 : 1;
    set.line_event_at = null;
  }
  if (patch.quotaBytes !== undefined) set.quota_bytes = patch.quotaBytes;
  if (patch.timezone !== undefined) set.timezone = patch.timezone;
  if (patch.quietHours !== undefined) set.quiet_hours = patch.quietHours === null ? null : JSON.stringify(patch.quietHours);
  if (patch.events !== undefined) set.events = patch.events === null ? null : JSON.stringify(patch.events);
  return set;
}

/** Owners and link codes over Kysely (SQLite and PostgreSQL). */
export class SqlOwners implements OwnerRepo {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async upsert(id: string, patch: OwnerPatch): Promise<Owner> {
    const now = Date.now();
    const set = patchColumns(patch);
    // One statement: concurrent first PUTs of one owner both succeed, the later patch winning.
    const row = await this.#db
      .insertInto('owners')
      .values({
        id,
        email: null,
        line_user_id: null,
        line_following: 0,
        quota_bytes: null,
        timezone: 'UTC',
        quiet_hours: null,
        events: null,
        quota_alerts: '[]',
        line_event_at: null,
        created_at: now,
        updated_at: now,
        ...set,
      })
      .onConflict((oc) => oc.column('id').doUpdateSet({ ...set, updated_at: now }))
      .returningAll()
      .executeTakeFirstOrThrow();
    return ownerFromRow(row);
  }

  async get(id: string): Promise<Owner | null> {
    const row = await this.#db.selectFrom('owners').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? ownerFromRow(row) : null;
  }

  async list(): Promise<Owner[]> {
    const rows = await this.#db.selectFrom('owners').selectAll().orderBy('id').execute();
    return rows.map(ownerFromRow);
  }

  async findByLineUserId(lineUserId: string): Promise<Owner | null> {
    const row = await this.#db.selectFrom('owners').selectAll().where('line_user_id', '=', lineUserId).orderBy('id').limit(1).executeTakeFirst();
    return row ? ownerFromRow(row) : null;
  }

  async createLinkCode(ownerId: string, code: string, expiresAt: Date): Promise<void> {
    await this.#db
      .insertInto('owner_link_codes')
      .values({ owner_id: ownerId, code, expires_at: expiresAt.getTime() })
      .onConflict((oc) => oc.column('owner_id').doUpdateSet({ code, expires_at: expiresAt.getTime() }))
      .execute();
  }

  async consumeLinkCode(code: string, now: Date): Promise<string | null> {
    // DELETE … RETURNING: of concurrent callers only the one whose delete found the row gets it.
    // An expired code is deleted too: it could never be used again anyway.
    const row = await this.#db.deleteFrom('owner_link_codes').where('code', '=', code).returning(['owner_id', 'expires_at']).executeTakeFirst();
    return row && toNumber(row.expires_at) > now.getTime() ? row.owner_id : null;
  }

  async setLineUser(ownerId: string, lineUserId: string | null, at?: Date): Promise<void> {
    await this.#db
      .updateTable('owners')
      .set({ line_user_id: lineUserId, line_following: lineUserId === null ? 0 : 1, line_event_at: at?.getTime() ?? null, updated_at: Date.now() })
      .where('id', '=', ownerId)
      .execute();
  }

  async setLineFollowing(lineUserId: string, following: boolean, at?: Date): Promise<number> {
    let update = this.#db
      .updateTable('owners')
      .set({ line_following: following ? 1 : 0, updated_at: Date.now(), ...(at ? { line_event_at: at.getTime() } : {}) })
      .where('line_user_id', '=', lineUserId);
    // The check and the write in one statement: of two events racing, the newer one wins.
    if (at) update = update.where((eb) => eb.or([eb('line_event_at', 'is', null), eb('line_event_at', '<=', at.getTime())]));
    const r = await update.executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async claimLineEvent(eventId: string, now: Date, retainMs: number): Promise<boolean> {
    await this.#db
      .deleteFrom('line_webhook_events')
      .where('seen_at', '<', now.getTime() - retainMs)
      .execute();
    const r = await this.#db
      .insertInto('line_webhook_events')
      .values({ event_id: eventId, seen_at: now.getTime() })
      .onConflict((oc) => oc.column('event_id').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async releaseLineEvent(eventId: string): Promise<void> {
    await this.#db.deleteFrom('line_webhook_events').where('event_id', '=', eventId).execute();
  }

  async addresses(ownerId: string): Promise<Readonly<Record<string, string>>> {
    const rows = await this.#db.selectFrom('owner_addresses').select(['channel', 'address']).where('owner_id', '=', ownerId).execute();
    return Object.fromEntries(rows.map((r) => [r.channel, r.address]));
  }

  async setAddresses(ownerId: string, patch: Readonly<Record<string, string | null>>): Promise<void> {
    const entries = Object.entries(patch);
    if (entries.length === 0) return;
    const now = Date.now();
    await this.#db.transaction().execute(async (tx) => {
      for (const [channel, address] of entries) {
        if (address === null) {
          await tx.deleteFrom('owner_addresses').where('owner_id', '=', ownerId).where('channel', '=', channel).execute();
        } else {
          await tx
            .insertInto('owner_addresses')
            .values({ owner_id: ownerId, channel, address, updated_at: now })
            .onConflict((oc) => oc.columns(['owner_id', 'channel']).doUpdateSet({ address, updated_at: now }))
            .execute();
        }
      }
      await tx.updateTable('owners').set({ updated_at: now }).where('id', '=', ownerId).execute();
    });
  }

  async casQuotaAlerts(ownerId: string, expected: readonly number[], next: readonly number[]): Promise<boolean> {
    const r = await this.#db
      .updateTable('owners')
      .set({ quota_alerts: canonicalAlerts(next), updated_at: Date.now() })
      .where('id', '=', ownerId)
      .where('quota_alerts', '=', canonicalAlerts(expected))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}
