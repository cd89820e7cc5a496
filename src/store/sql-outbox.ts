import { type Kysely, type RawBuilder, type Selectable, sql } from 'kysely';

import { ErrorCodes, NightshiftError } from '../errors.js';
import { encodeCursor, parseListQuery } from './cursor.js';
import { DIGEST_MAX_ROUNDS, digestGeneration } from './outbox-keys.js';
import type { NewNotification, NotificationQuery, NotificationRecord, OutboxEntry, OutboxRepo } from './outbox-types.js';
import { writeEntries } from './outbox-write.js';
import { toDate, toDateOrNull, toJsonObject, toNumber } from './rows.js';
import type { SqlKind } from './schema.js';
import type { Database, NotificationsTable } from './schema.js';

type NotificationRow = Selectable<NotificationsTable>;
const RETRYABLE = ['queued', 'failed'] as const;

function notificationFromRow(r: NotificationRow): NotificationRecord {
  return {
    id: r.id,
    key: r.key,
    event: r.event,
    channel: r.channel,
    recipient: r.recipient,
    owner: r.owner,
    status: r.status,
    attempts: r.attempts,
    message: toJsonObject(r.message) ?? {},
    digestKey: r.digest_key,
    notBefore: toDate(r.not_before),
    lastError: r.last_error,
    response: r.response,
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
    sentAt: toDateOrNull(r.sent_at),
    firstAttemptAt: toDateOrNull(r.first_attempt_at),
  };
}

function rowValues(n: NewNotification, digestOpen: boolean, now: number) {
  return {
    id: n.id,
    key: n.key,
    event: n.event,
    channel: n.channel,
    recipient: n.recipient,
    owner: n.owner,
    status: 'queued' as const,
    attempts: 0,
    message: JSON.stringify(n.message),
    digest_key: n.digestKey ?? null,
    digest_open: digestOpen ? 1 : null,
    not_before: n.notBefore.getTime(),
    lease_until: null,
    last_error: null,
    response: null,
    created_at: now,
    updated_at: now,
    sent_at: null,
    first_attempt_at: null,
  };
}

/** The outbox over Kysely (SQLite and PostgreSQL). Every state change is one conditional statement. */
export class SqlOutbox implements OutboxRepo {
  readonly #db: Kysely<Database>;
  readonly #kind: SqlKind;

  constructor(kind: SqlKind, db: Kysely<Database>) {
    this.#kind = kind;
    this.#db = db;
  }

  /**
   * Rows made here are plain rows, even with a digestKey: only appendToDigest opens a row for
   * appends (it owns the one-open-row-per-digest-key rule).
   */
  async insert(n: NewNotification): Promise<{ record: NotificationRecord; created: boolean }> {
    const row = await this.#db
      .insertInto('notifications')
      .values(rowValues(n, false, Date.now()))
      .onConflict((oc) => oc.column('key').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (row) return { record: notificationFromRow(row), created: true };
    const existing = await this.#db.selectFrom('notifications').selectAll().where('key', '=', n.key).executeTakeFirst();
    // Only a key conflict is swallowed above, so the row is there unless purged in between.
    if (!existing) throw new NightshiftError(ErrorCodes.INTERNAL, `notification ${n.key} conflicted but is gone`);
    return { record: notificationFromRow(existing), created: false };
  }

  async get(id: string): Promise<NotificationRecord | null> {
    const row = await this.#db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? notificationFromRow(row) : null;
  }

  async list(query: NotificationQuery): Promise<{ items: NotificationRecord[]; nextCursor: string | null }> {
    const { limit, after } = parseListQuery({ limit: query.limit, cursor: query.cursor });
    let q = this.#db.selectFrom('notifications').selectAll();
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    if (query.event !== undefined) q = q.where('event', '=', query.event);
    if (query.channel !== undefined) q = q.where('channel', '=', query.channel);
    if (query.owner !== undefined) q = q.where('owner', '=', query.owner);
    if (after) q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(after.uploadedAt, after.id)));
    const rows = await q
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(notificationFromRow),
      nextCursor: rows.length > limit && last ? encodeCursor({ uploadedAt: toNumber(last.created_at), id: last.id }) : null,
    };
  }

  async claim(id: string, now: Date, leaseMs: number): Promise<NotificationRecord | null> {
    const at = now.getTime();
    // The WHERE is re-checked under the row lock (PostgreSQL) / write lock (SQLite): the first
    // claimer's lease makes it false for every other.
    const row = await this.#db
      .updateTable('notifications')
      .set((eb) => ({
        attempts: eb('attempts', '+', 1),
        lease_until: at + leaseMs,
        digest_open: null,
        updated_at: at,
        first_attempt_at: sql<number>`coalesce(first_attempt_at, ${at})`,
      }))
      .where('id', '=', id)
      .where('status', 'in', RETRYABLE)
      .where('not_before', '<=', at)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', at)]))
      .returningAll()
      .executeTakeFirst();
    return row ? notificationFromRow(row) : null;
  }

  async markSent(id: string, response: string | null, at: Date): Promise<void> {
    await this.#db
      .updateTable('notifications')
      .set({ status: 'sent', response, sent_at: at.getTime(), lease_until: null, digest_open: null, updated_at: at.getTime() })
      .where('id', '=', id)
      .execute();
  }

  async markFailed(id: string, error: string, notBefore: Date): Promise<void> {
    await this.#db
      .updateTable('notifications')
      .set({ status: 'failed', last_error: error, not_before: notBefore.getTime(), lease_until: null, digest_open: null, updated_at: Date.now() })
      .where('id', '=', id)
      .execute();
  }

  async markDead(id: string, error: string): Promise<void> {
    await this.#db
      .updateTable('notifications')
      .set({ status: 'dead', last_error: error, lease_until: null, digest_open: null, updated_at: Date.now() })
      .where('id', '=', id)
      .execute();
  }

  async requeue(id: string, now: Date): Promise<boolean> {
    const r = await this.#db
      .updateTable('notifications')
      .set({ status: 'queued', attempts: 0, not_before: now.getTime(), lease_until: null, first_attempt_at: null, updated_at: now.getTime() })
      .where('id', '=', id)
      .where('status', '=', 'dead')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * Append to the open row, else open one. Both steps are single statements; a lost race
   * (another caller opened the row first, or the row we would create already exists closed)
   * sends us round again, so two concurrent first appends end in one row with both items.
   */
  async appendToDigest(digestKey: string, item: Record<string, unknown>, create: NewNotification): Promise<{ record: NotificationRecord; created: boolean }> {
    const itemJson = JSON.stringify(item);
    let generation = 1;
    for (let round = 0; round < DIGEST_MAX_ROUNDS; round++) {
      const now = Date.now();
      const appended = await this.#db
        .updateTable('notifications')
        .set({ message: this.#appendItem(itemJson), updated_at: now })
        .where('digest_key', '=', digestKey)
        .where('digest_open', '=', 1)
        .returningAll()
        .executeTakeFirst();
      if (appended) return { record: notificationFromRow(appended), created: false };

      const inserted = await this.#db
        .insertInto('notifications')
        .values(rowValues({ ...digestGeneration(create, generation), digestKey }, true, now))
        .onConflict((oc) => oc.doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted) return { record: notificationFromRow(inserted), created: true };

      // Either someone opened a row (the next update finds it) or this generation's key is
      // taken by a closed row: move past every generation that exists.
      const { n } = await this.#db
        .selectFrom('notifications')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('digest_key', '=', digestKey)
        .executeTakeFirstOrThrow();
      generation = Math.max(generation + 1, toNumber(n) + 1);
    }
    throw new NightshiftError(ErrorCodes.INTERNAL, `digest ${digestKey}: gave up after ${DIGEST_MAX_ROUNDS} contended rounds`);
  }

  async write(entries: readonly OutboxEntry[]): Promise<NotificationRecord[]> {
    return writeEntries(this, entries);
  }

  async wake(channel: string, now: Date, limit: number): Promise<NotificationRecord[]> {
    const at = now.getTime();
    const due = this.#db
      .selectFrom('notifications')
      .select('id')
      .where('channel', '=', channel)
      .where('status', '=', 'failed')
      .where('not_before', '>', at)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', at)]))
      .orderBy('created_at')
      .orderBy('id')
      .limit(limit);
    const rows = await this.#db
      .updateTable('notifications')
      .set({ not_before: at, updated_at: at })
      .where('id', 'in', due)
      .where('status', '=', 'failed')
      .where('not_before', '>', at)
      .returningAll()
      .execute();
    return rows.map(notificationFromRow).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async lastFor(event: string, channel: string, recipient: string, since: Date): Promise<Date | null> {
    const row = await this.#db
      .selectFrom('notifications')
      .select((eb) => eb.fn.max('created_at').as('last'))
      .where('event', '=', event)
      .where('channel', '=', channel)
      .where('recipient', '=', recipient)
      .where('created_at', '>=', since.getTime())
      .where('status', '!=', 'dead')
      .executeTakeFirst();
    return row?.last === null || row?.last === undefined ? null : toDate(row.last);
  }

  async findDue(dueBefore: Date, limit: number): Promise<NotificationRecord[]> {
    const at = dueBefore.getTime();
    const rows = await this.#db
      .selectFrom('notifications')
      .selectAll()
      .where('status', 'in', RETRYABLE)
      .where('not_before', '<=', at)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', at)]))
      .orderBy('not_before')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(notificationFromRow);
  }

  async purge(before: Date): Promise<number> {
    const r = await this.#db.deleteFrom('notifications').where('status', 'in', ['sent', 'dead']).where('updated_at', '<', before.getTime()).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** message.items with one more element, as an expression over the row being updated. */
  #appendItem(itemJson: string): RawBuilder<string> {
    return this.#kind === 'postgres'
      ? sql<string>`jsonb_set(message, '{items}', coalesce(message -> 'items', '[]'::jsonb) || jsonb_build_array(cast(${itemJson} as jsonb)))`
      : sql<string>`json_set(message, '$.items', json_insert(coalesce(json_extract(message, '$.items'), '[]'), '$[#]', json(${itemJson})))`;
  }
}
