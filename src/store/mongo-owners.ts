import { type Collection, type Db, MongoServerError } from 'mongodb';

import { ErrorCodes, NightshiftError } from '../errors.js';
import type { Owner, OwnerPatch, OwnerRepo, QuietHours } from './owner-types.js';

interface OwnerDoc {
  _id: string;
  email: string | null;
  lineUserId: string | null;
  lineFollowing: boolean;
  quotaBytes: number | null;
  timezone: string;
  quietHours: QuietHours | null;
  events: string[] | null;
  /** Sorted and unique, so the compare-and-set is an exact array match. */
  quotaAlerts: number[];
  /**
   * Channel → address for channels that keep owners' addresses in the generic map (the SQL
   * stores' owner_addresses table). Absent on documents written before it existed.
   */
  addresses?: Record<string, string>;
  /** The last LINE webhook event applied to this owner; absent or null: none yet. */
  lineEventAt?: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A LINE webhookEventId already applied (the SQL stores' line_webhook_events). */
interface LineEventDoc {
  _id: string;
  seenAt: Date;
}

interface LinkCodeDoc {
  /** The code itself: taking it is one findOneAndDelete. */
  _id: string;
  ownerId: string;
  expiresAt: Date;
}

export const isDuplicateKey = (err: unknown): boolean => err instanceof MongoServerError && err.code === 11000;

const sortedAlerts = (alerts: readonly number[]): number[] => [...new Set(alerts)].sort((a, b) => a - b);

function toOwner(d: OwnerDoc): Owner {
  return {
    id: d._id,
    email: d.email,
    lineUserId: d.lineUserId,
    lineFollowing: d.lineFollowing,
    quotaBytes: d.quotaBytes,
    timezone: d.timezone,
    quietHours: d.quietHours ? { ...d.quietHours } : null,
    events: d.events ? [...d.events] : null,
    quotaAlerts: [...d.quotaAlerts],
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

/** Owners and link codes on MongoDB: one document per owner, one per live link code. */
export class MongoOwners implements OwnerRepo {
  readonly #owners: Collection<OwnerDoc>;
  readonly #codes: Collection<LinkCodeDoc>;
  readonly #lineEvents: Collection<LineEventDoc>;

  constructor(db: Db) {
    this.#owners = db.collection<OwnerDoc>('owners');
    this.#codes = db.collection<LinkCodeDoc>('owner_link_codes');
    this.#lineEvents = db.collection<LineEventDoc>('line_webhook_events');
  }

  async ensureIndexes(): Promise<string[]> {
    return [
      ...(await this.#owners.createIndexes([{ key: { lineUserId: 1 }, name: 'owners_line_user_idx' }])),
      // One live code per owner: a second concurrent createLinkCode loses and retries.
      ...(await this.#codes.createIndexes([{ key: { ownerId: 1 }, name: 'owner_link_codes_owner_idx', unique: true }])),
      ...(await this.#lineEvents.createIndexes([{ key: { seenAt: 1 }, name: 'line_webhook_events_seen_idx' }])),
    ];
  }

  async upsert(id: string, patch: OwnerPatch): Promise<Owner> {
    const now = new Date();
    const set: Partial<Omit<OwnerDoc, '_id'>> = { updatedAt: now };
    if (patch.email !== undefined) set.email = patch.email;
    if (patch.lineUserId !== undefined) {
      set.lineUserId = patch.lineUserId;
      set.lineFollowing = patch.lineUserId !== null;
      set.lineEventAt = null;
    }
    if (patch.quotaBytes !== undefined) set.quotaBytes = patch.quotaBytes;
    if (patch.timezone !== undefined) set.timezone = patch.timezone;
    if (patch.quietHours !== undefined) set.quietHours = patch.quietHours === null ? null : { ...patch.quietHours };
    if (patch.events !== undefined) set.events = patch.events === null ? null : [...patch.events];
    const defaults: Omit<OwnerDoc, '_id'> = {
      email: null,
      lineUserId: null,
      lineFollowing: false,
      quotaBytes: null,
      timezone: 'UTC',
      quietHours: null,
      events: null,
      quotaAlerts: [],
      createdAt: now,
      updatedAt: now,
    };
    // $setOnInsert may not name a field $set also names.
    const onInsert = Object.fromEntries(Object.entries(defaults).filter(([k]) => !(k in set)));
    for (let attempt = 0; ; attempt++) {
      try {
        const doc = await this.#owners.findOneAndUpdate({ _id: id }, { $set: set, $setOnInsert: onInsert }, { upsert: true, returnDocument: 'after' });
        if (!doc) throw new NightshiftError(ErrorCodes.INTERNAL, `owner ${id}: upsert returned nothing`);
        return toOwner(doc);
      } catch (err) {
        // Two first upserts racing: the loser's insert hits the _id; the retry updates.
        if (!isDuplicateKey(err) || attempt >= 2) throw err;
      }
    }
  }

  async get(id: string): Promise<Owner | null> {
    const doc = await this.#owners.findOne({ _id: id });
    return doc ? toOwner(doc) : null;
  }

  async list(): Promise<Owner[]> {
    return (await this.#owners.find().sort({ _id: 1 }).toArray()).map(toOwner);
  }

  async findByLineUserId(lineUserId: string): Promise<Owner | null> {
    const doc = await this.#owners.find({ lineUserId }).sort({ _id: 1 }).limit(1).next();
    return doc ? toOwner(doc) : null;
  }

  async createLinkCode(ownerId: string, code: string, expiresAt: Date): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await this.#codes.deleteMany({ ownerId });
      try {
        await this.#codes.insertOne({ _id: code, ownerId, expiresAt });
        return;
      } catch (err) {
        if (!isDuplicateKey(err) || attempt >= 4) throw err;
      }
    }
  }

  async consumeLinkCode(code: string, now: Date): Promise<string | null> {
    const doc = await this.#codes.findOneAndDelete({ _id: code });
    return doc && doc.expiresAt.getTime() > now.getTime() ? doc.ownerId : null;
  }

  async setLineUser(ownerId: string, lineUserId: string | null, at?: Date): Promise<void> {
    await this.#owners.updateOne(
      { _id: ownerId },
      { $set: { lineUserId, lineFollowing: lineUserId !== null, lineEventAt: at ?? null, updatedAt: new Date() } },
    );
  }

  async setLineFollowing(lineUserId: string, following: boolean, at?: Date): Promise<number> {
    // The check and the write in one update: of two events racing, the newer one wins. A null
    // filter also matches documents written before the field existed.
    const filter = at ? { lineUserId, $or: [{ lineEventAt: null }, { lineEventAt: { $lte: at } }] } : { lineUserId };
    const r = await this.#owners.updateMany(filter, { $set: { lineFollowing: following, updatedAt: new Date(), ...(at ? { lineEventAt: at } : {}) } });
    return r.matchedCount;
  }

  async claimLineEvent(eventId: string, now: Date, retainMs: number): Promise<boolean> {
    await this.#lineEvents.deleteMany({ seenAt: { $lt: new Date(now.getTime() - retainMs) } });
    try {
      await this.#lineEvents.insertOne({ _id: eventId, seenAt: now });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  async releaseLineEvent(eventId: string): Promise<void> {
    await this.#lineEvents.deleteOne({ _id: eventId });
  }

  async addresses(ownerId: string): Promise<Readonly<Record<string, string>>> {
    const doc = await this.#owners.findOne({ _id: ownerId }, { projection: { addresses: 1 } });
    return { ...(doc?.addresses ?? {}) };
  }

  async setAddresses(ownerId: string, patch: Readonly<Record<string, string | null>>): Promise<void> {
    const entries = Object.entries(patch);
    if (entries.length === 0) return;
    // Channel names are code-defined identifiers (no "." or "$"), so they are safe as field names.
    const set: Record<string, unknown> = { updatedAt: new Date() };
    const unset: Record<string, ''> = {};
    for (const [channel, address] of entries) {
      if (address === null) unset[`addresses.${channel}`] = '';
      else set[`addresses.${channel}`] = address;
    }
    await this.#owners.updateOne({ _id: ownerId }, Object.keys(unset).length > 0 ? { $set: set, $unset: unset } : { $set: set });
  }

  async casQuotaAlerts(ownerId: string, expected: readonly number[], next: readonly number[]): Promise<boolean> {
    // An array in a filter matches only that exact array, in order: hence the sorted form.
    const r = await this.#owners.updateOne(
      { _id: ownerId, quotaAlerts: sortedAlerts(expected) },
      { $set: { quotaAlerts: sortedAlerts(next), updatedAt: new Date() } },
    );
    return r.matchedCount === 1;
  }
}
