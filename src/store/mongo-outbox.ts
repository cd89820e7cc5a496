import type { Collection, Db, Filter } from 'mongodb';

import { ErrorCodes, NightshiftError } from '../errors.js';
import { encodeCursor, parseListQuery } from './cursor.js';
import { isDuplicateKey } from './mongo-owners.js';
import { DIGEST_MAX_ROUNDS, digestGeneration } from './outbox-keys.js';
import type { NewNotification, NotificationQuery, NotificationRecord, NotificationStatus, OutboxEntry, OutboxRepo } from './outbox-types.js';
import { writeEntries } from './outbox-write.js';

interface NotificationDoc {
  _id: string;
  key: string;
  event: string;
  channel: string;
  recipient: string;
  owner: string | null;
  status: NotificationStatus;
  attempts: number;
  message: Record<string, unknown>;
  digestKey: string | null;
  /** True while a digest row accepts appends; a partial unique index allows one per digestKey. */
  digestOpen: boolean;
  notBefore: Date;
  leaseUntil: Date | null;
  lastError: string | null;
  response: string | null;
  createdAt: Date;
  updatedAt: Date;
  sentAt: Date | null;
  firstAttemptAt?: Date | null;
  /**
   * Digest rows: the keys of the items appended so far (NewNotification.key of each append), so
   * materializing a file's pending entries again (after a crash) never appends one item twice.
   */
  digestItemKeys?: string[];
}

const RETRYABLE: NotificationStatus[] = ['queued', 'failed'];

function toRecord(d: NotificationDoc): NotificationRecord {
  return {
    id: d._id,
    key: d.key,
    event: d.event,
    channel: d.channel,
    recipient: d.recipient,
    owner: d.owner,
    status: d.status,
    attempts: d.attempts,
    message: d.message,
    digestKey: d.digestKey,
    notBefore: d.notBefore,
    lastError: d.lastError,
    response: d.response,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    sentAt: d.sentAt,
    firstAttemptAt: d.firstAttemptAt ?? null,
  };
}

function toDoc(n: NewNotification, digestOpen: boolean, now: Date): NotificationDoc {
  return {
    _id: n.id,
    key: n.key,
    event: n.event,
    channel: n.channel,
    recipient: n.recipient,
    owner: n.owner,
    status: 'queued',
    attempts: 0,
    message: structuredClone(n.message),
    digestKey: n.digestKey ?? null,
    digestOpen,
    notBefore: n.notBefore,
    leaseUntil: null,
    lastError: null,
    response: null,
    createdAt: now,
    updatedAt: now,
    sentAt: null,
    firstAttemptAt: null,
    ...(n.digestKey ? { digestItemKeys: [n.key] } : {}),
  };
}

const leaseFree = (at: Date): Filter<NotificationDoc> => ({ $or: [{ leaseUntil: null }, { leaseUntil: { $lte: at } }] });

/** The outbox on MongoDB: single-document conditional updates and unique indexes arbitrate races. */
export class MongoOutbox implements OutboxRepo {
  readonly #col: Collection<NotificationDoc>;

  constructor(db: Db) {
    this.#col = db.collection<NotificationDoc>('notifications');
  }

  async ensureIndexes(): Promise<string[]> {
    const page = { createdAt: -1, _id: -1 } as const;
    return this.#col.createIndexes([
      { key: { key: 1 }, name: 'notifications_key_idx', unique: true },
      { key: page, name: 'notifications_created_idx' },
      { key: { status: 1, ...page }, name: 'notifications_status_idx' },
      { key: { event: 1, ...page }, name: 'notifications_event_idx' },
      { key: { channel: 1, ...page }, name: 'notifications_channel_idx' },
      { key: { owner: 1, ...page }, name: 'notifications_owner_idx' },
      { key: { status: 1, notBefore: 1 }, name: 'notifications_due_idx' },
      { key: { event: 1, channel: 1, recipient: 1, createdAt: -1 }, name: 'notifications_last_idx' },
      { key: { digestKey: 1 }, name: 'notifications_digest_open_idx', unique: true, partialFilterExpression: { digestOpen: true } },
      { key: { status: 1, updatedAt: 1 }, name: 'notifications_purge_idx' },
      { key: { channel: 1, createdAt: 1, _id: 1 }, name: 'notifications_wake_idx', partialFilterExpression: { status: 'failed' } },
      { key: { digestKey: 1, digestItemKeys: 1 }, name: 'notifications_digest_items_idx', partialFilterExpression: { digestKey: { $type: 'string' } } },
    ]);
  }

  async insert(n: NewNotification): Promise<{ record: NotificationRecord; created: boolean }> {
    const doc = toDoc(n, false, new Date());
    try {
      await this.#col.insertOne(doc);
      return { record: toRecord(doc), created: true };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const existing = await this.#col.findOne({ key: n.key });
    if (!existing) throw new NightshiftError(ErrorCodes.INTERNAL, `notification ${n.key}: duplicate id ${n.id} under another key`);
    return { record: toRecord(existing), created: false };
  }

  async get(id: string): Promise<NotificationRecord | null> {
    const doc = await this.#col.findOne({ _id: id });
    return doc ? toRecord(doc) : null;
  }

  async list(query: NotificationQuery): Promise<{ items: NotificationRecord[]; nextCursor: string | null }> {
    const { limit, after } = parseListQuery({ limit: query.limit, cursor: query.cursor });
    const filter: Filter<NotificationDoc> = {};
    if (query.status !== undefined) filter.status = query.status;
    if (query.event !== undefined) filter.event = query.event;
    if (query.channel !== undefined) filter.channel = query.channel;
    if (query.owner !== undefined) filter.owner = query.owner;
    if (after) {
      const at = new Date(after.uploadedAt);
      filter.$or = [{ createdAt: { $lt: at } }, { createdAt: at, _id: { $lt: after.id } }];
    }
    const docs = await this.#col
      .find(filter)
      .sort({ createdAt: -1, _id: -1 })
      .limit(limit + 1)
      .toArray();
    const page = docs.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(toRecord),
      nextCursor: docs.length > limit && last ? encodeCursor({ uploadedAt: last.createdAt.getTime(), id: last._id }) : null,
    };
  }

  async claim(id: string, now: Date, leaseMs: number): Promise<NotificationRecord | null> {
    // A pipeline update, so the first attempt's time is kept ($ifNull) in the same operation.
    const doc = await this.#col.findOneAndUpdate(
      { _id: id, status: { $in: RETRYABLE }, notBefore: { $lte: now }, ...leaseFree(now) },
      [
        {
          $set: {
            attempts: { $add: ['$attempts', 1] },
            leaseUntil: new Date(now.getTime() + leaseMs),
            digestOpen: false,
            updatedAt: now,
            firstAttemptAt: { $ifNull: ['$firstAttemptAt', now] },
          },
        },
      ],
      { returnDocument: 'after' },
    );
    return doc ? toRecord(doc) : null;
  }

  async markSent(id: string, response: string | null, at: Date): Promise<void> {
    await this.#col.updateOne({ _id: id }, { $set: { status: 'sent', response, sentAt: at, leaseUntil: null, digestOpen: false, updatedAt: at } });
  }

  async markFailed(id: string, error: string, notBefore: Date): Promise<void> {
    await this.#col.updateOne(
      { _id: id },
      { $set: { status: 'failed', lastError: error, notBefore, leaseUntil: null, digestOpen: false, updatedAt: new Date() } },
    );
  }

  async markDead(id: string, error: string): Promise<void> {
    await this.#col.updateOne({ _id: id }, { $set: { status: 'dead', lastError: error, leaseUntil: null, digestOpen: false, updatedAt: new Date() } });
  }

  async requeue(id: string, now: Date): Promise<boolean> {
    const r = await this.#col.updateOne(
      { _id: id, status: 'dead' },
      { $set: { status: 'queued', attempts: 0, notBefore: now, leaseUntil: null, firstAttemptAt: null, updatedAt: now } },
    );
    return r.matchedCount === 1;
  }

  /**
   * Same protocol as the SQL store: append to the open row, else open one; a lost race goes
   * round again. An item whose key (`create.key`) some generation already holds is not appended
   * again: on MongoDB a file's entries may be materialized twice (see MongoStore).
   */
  async appendToDigest(digestKey: string, item: Record<string, unknown>, create: NewNotification): Promise<{ record: NotificationRecord; created: boolean }> {
    let generation = 1;
    for (let round = 0; round < DIGEST_MAX_ROUNDS; round++) {
      const now = new Date();
      const appended = await this.#col.findOneAndUpdate(
        { digestKey, digestOpen: true, digestItemKeys: { $ne: create.key } },
        { $push: { 'message.items': structuredClone(item), digestItemKeys: create.key }, $set: { updatedAt: now } },
        { returnDocument: 'after' },
      );
      if (appended) return { record: toRecord(appended), created: false };
      const holder = await this.#col.findOne({ digestKey, digestItemKeys: create.key });
      if (holder) return { record: toRecord(holder), created: false };
      const doc = toDoc({ ...digestGeneration(create, generation), digestKey }, true, now);
      try {
        await this.#col.insertOne(doc);
        return { record: toRecord(doc), created: true };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      generation = Math.max(generation + 1, (await this.#col.countDocuments({ digestKey })) + 1);
    }
    throw new NightshiftError(ErrorCodes.INTERNAL, `digest ${digestKey}: gave up after ${DIGEST_MAX_ROUNDS} contended rounds`);
  }

  async write(entries: readonly OutboxEntry[]): Promise<NotificationRecord[]> {
    return writeEntries(this, entries);
  }

  async wake(channel: string, now: Date, limit: number): Promise<NotificationRecord[]> {
    const docs = await this.#col
      .find({ channel, status: 'failed', notBefore: { $gt: now }, ...leaseFree(now) }, { projection: { _id: 1 } })
      .sort({ createdAt: 1, _id: 1 })
      .limit(limit)
      .toArray();
    const ids = docs.map((d) => d._id);
    if (ids.length === 0) return [];
    await this.#col.updateMany({ _id: { $in: ids }, status: 'failed', notBefore: { $gt: now } }, { $set: { notBefore: now, updatedAt: now } });
    const woken = await this.#col
      .find({ _id: { $in: ids }, status: 'failed', notBefore: now })
      .sort({ createdAt: 1, _id: 1 })
      .toArray();
    return woken.map(toRecord);
  }

  async lastFor(event: string, channel: string, recipient: string, since: Date): Promise<Date | null> {
    const doc = await this.#col
      .find({ event, channel, recipient, createdAt: { $gte: since }, status: { $ne: 'dead' } }, { projection: { createdAt: 1 } })
      .sort({ createdAt: -1 })
      .limit(1)
      .next();
    return doc ? doc.createdAt : null;
  }

  async findDue(dueBefore: Date, limit: number): Promise<NotificationRecord[]> {
    const docs = await this.#col
      .find({ status: { $in: RETRYABLE }, notBefore: { $lte: dueBefore }, ...leaseFree(dueBefore) })
      .sort({ notBefore: 1, _id: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toRecord);
  }

  async purge(before: Date): Promise<number> {
    const r = await this.#col.deleteMany({ status: { $in: ['sent', 'dead'] }, updatedAt: { $lt: before } });
    return r.deletedCount;
  }
}
