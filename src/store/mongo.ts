import { randomUUID } from 'node:crypto';

import { type Collection, type Filter, MongoClient } from 'mongodb';

import { ErrorCodes, NightshiftError } from '../errors.js';
import type { Logger } from '../logger.js';
import { encodeCursor, parseListQuery } from './cursor.js';
import { finalOutcome, readyToFinalize } from './final.js';
import type { FileDoc, PendingOutbox, StepDoc } from './mongo-docs.js';
import { MongoControls, MongoWorkers } from './mongo-ops.js';
import { MongoOutbox } from './mongo-outbox.js';
import { MongoOwners } from './mongo-owners.js';
import { MongoReports } from './mongo-reports.js';
import { MongoRuns } from './mongo-runs.js';
import type { FileFilter } from './ops-types.js';
import type { NotificationRecord } from './outbox-types.js';
import { orderSteps, type StepOrder } from './step-order.js';
import {
  type DeleteFileOutcome,
  FILE_STATUSES,
  type FilePage,
  type FileRecord,
  type FileStatus,
  type ListFilesQuery,
  type NewFile,
  type OutboxPlanner,
  type SettledFile,
  type StepName,
  type StepOutcome,
  type Store,
} from './types.js';

export type { FileDoc } from './mongo-docs.js';

const UNFINISHED = ['pending', 'running'];

function toRecord(d: FileDoc): FileRecord {
  return {
    id: d._id,
    owner: d.owner,
    filename: d.filename,
    contentType: d.contentType,
    size: d.size,
    blobKey: d.blobKey,
    status: d.status,
    error: d.error,
    uploadedAt: d.uploadedAt,
    startedAt: d.startedAt,
    completedAt: d.completedAt,
    steps: d.steps.map((s) => ({ ...s })),
  };
}

/** The Store on MongoDB: one document per file, steps embedded. */
export class MongoStore implements Store {
  readonly kind = 'mongodb' as const;
  readonly owners: MongoOwners;
  readonly outbox: MongoOutbox;
  readonly reports: MongoReports;
  readonly runs: MongoRuns;
  readonly workers: MongoWorkers;
  readonly controls: MongoControls;
  readonly #client: MongoClient;
  readonly #files: Collection<FileDoc>;
  readonly #log: Logger;
  readonly #stepOrder: StepOrder;

  constructor(client: MongoClient, log: Logger, stepOrder: StepOrder = []) {
    this.#client = client;
    this.#stepOrder = stepOrder;
    this.#files = client.db().collection<FileDoc>('files');
    this.#log = log;
    this.owners = new MongoOwners(client.db());
    this.outbox = new MongoOutbox(client.db());
    this.reports = new MongoReports(this.#files);
    this.runs = new MongoRuns(client.db());
    this.workers = new MongoWorkers(client.db());
    this.controls = new MongoControls(client.db());
  }

  async migrate(): Promise<void> {
    // createIndexes is idempotent for identical specs, so concurrent start-ups are harmless.
    const names = await this.#files.createIndexes([
      { key: { uploadedAt: -1, _id: -1 }, name: 'files_uploaded_idx' },
      { key: { status: 1, uploadedAt: -1, _id: -1 }, name: 'files_status_uploaded_idx' },
      { key: { owner: 1, uploadedAt: -1, _id: -1 }, name: 'files_owner_uploaded_idx' },
      {
        key: { completedAt: 1, owner: 1, status: 1 },
        name: 'files_completed_idx',
        partialFilterExpression: { completedAt: { $type: 'date' } },
      },
      { key: { 'steps.status': 1, 'steps.heartbeatAt': 1 }, name: 'files_step_heartbeat_idx' },
      { key: { 'pendingOutbox.token': 1 }, name: 'files_pending_outbox_idx', partialFilterExpression: { 'pendingOutbox.token': { $exists: true } } },
    ]);
    names.push(
      ...(await this.reports.ensureIndexes()),
      ...(await this.owners.ensureIndexes()),
      ...(await this.outbox.ensureIndexes()),
      ...(await this.runs.ensureIndexes()),
      ...(await this.workers.ensureIndexes()),
    );
    this.#log.info({ indexes: names }, 'store indexes ensured');
  }

  async ping(): Promise<void> {
    try {
      await this.#client.db().command({ ping: 1 });
    } catch (err) {
      throw new NightshiftError(ErrorCodes.STORE_UNAVAILABLE, `mongodb store is not answering: ${(err as Error).message}`, { status: 503, cause: err });
    }
  }

  async close(): Promise<void> {
    await this.#client.close();
  }

  async createFile(file: NewFile): Promise<FileRecord> {
    const doc: FileDoc = {
      _id: file.id,
      owner: file.owner,
      filename: file.filename,
      contentType: file.contentType,
      size: file.size,
      derivedBytes: 0,
      blobKey: file.blobKey,
      status: 'uploaded',
      error: null,
      uploadedAt: new Date(),
      startedAt: null,
      completedAt: null,
      steps: [],
      rev: 0,
    };
    await this.#files.insertOne(doc);
    return toRecord(doc);
  }

  async getFile(id: string): Promise<FileRecord | null> {
    const doc = await this.#files.findOne({ _id: id });
    return doc ? toRecord(doc) : null;
  }

  async listFiles(query: ListFilesQuery): Promise<FilePage> {
    const { limit, after } = parseListQuery(query);
    const filter: Filter<FileDoc> = {};
    if (query.status !== undefined) filter.status = query.status;
    if (query.owner !== undefined) filter.owner = query.owner;
    if (query.uploadedAfter !== undefined || query.uploadedBefore !== undefined) {
      filter.uploadedAt = {
        ...(query.uploadedBefore !== undefined ? { $lt: query.uploadedBefore } : {}),
        ...(query.uploadedAfter !== undefined ? { $gte: query.uploadedAfter } : {}),
      };
    }
    if (query.filenameContains !== undefined) filter.filename = { $regex: query.filenameContains.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), $options: 'i' };
    if (after) {
      const at = new Date(after.uploadedAt);
      filter.$or = [{ uploadedAt: { $lt: at } }, { uploadedAt: at, _id: { $lt: after.id } }];
    }
    const docs = await this.#files
      .find(filter)
      .sort({ uploadedAt: -1, _id: -1 })
      .limit(limit + 1)
      .toArray();
    const page = docs.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(toRecord),
      nextCursor: docs.length > limit && last ? encodeCursor({ uploadedAt: last.uploadedAt.getTime(), id: last._id }) : null,
    };
  }

  async findFileIds(filter: FileFilter, limit: number, afterId?: string): Promise<string[]> {
    const q: Filter<FileDoc> = {};
    if (filter.status !== undefined) q.status = filter.status;
    if (filter.owner !== undefined) q.owner = filter.owner;
    if (filter.uploadedBefore !== undefined || filter.uploadedAfter !== undefined) {
      q.uploadedAt = {
        ...(filter.uploadedBefore !== undefined ? { $lt: filter.uploadedBefore } : {}),
        ...(filter.uploadedAfter !== undefined ? { $gte: filter.uploadedAfter } : {}),
      };
    }
    if (filter.failedStep !== undefined) q.steps = { $elemMatch: { name: filter.failedStep as StepName, status: 'failed' } };
    if (afterId !== undefined) q._id = { $gt: afterId };
    const docs = await this.#files
      .find(q, { projection: { _id: 1 } })
      .sort({ _id: 1 })
      .limit(limit)
      .toArray();
    return docs.map((d) => d._id);
  }

  async countFilesByStatus(): Promise<Record<FileStatus, number>> {
    const rows = await this.#files.aggregate<{ _id: FileStatus; n: number }>([{ $group: { _id: '$status', n: { $sum: 1 } } }]).toArray();
    const counts = Object.fromEntries(FILE_STATUSES.map((s) => [s, 0])) as Record<FileStatus, number>;
    for (const r of rows) counts[r._id] = r.n;
    return counts;
  }

  async startProcessing(id: string, contentType: string, steps: ReadonlyArray<{ name: StepName; status: 'pending' | 'skipped' }>): Promise<boolean> {
    const ordered = orderSteps(steps, this.#stepOrder);
    const stepDocs: StepDoc[] = ordered.map((s) => ({
      name: s.name,
      status: s.status,
      attempts: 0,
      durationMs: null,
      error: null,
      startedAt: null,
      finishedAt: null,
      heartbeatAt: null,
      result: null,
    }));
    const r = await this.#files.updateOne(
      { _id: id, status: 'uploaded' },
      { $set: { status: 'processing', contentType, startedAt: new Date(), completedAt: null, error: null, steps: stepDocs }, $inc: { rev: 1 } },
    );
    return r.modifiedCount === 1;
  }

  async resetForReprocess(id: string): Promise<boolean> {
    const r = await this.#files.updateOne(
      // Only from a final status: the one conditional update is the claim, so of concurrent callers exactly one wins.
      { _id: id, status: { $in: ['completed', 'failed'] } },
      { $set: { status: 'uploaded', error: null, startedAt: null, completedAt: null, steps: [], derivedBytes: 0 }, $inc: { rev: 1 } },
    );
    return r.matchedCount === 1;
  }

  async resetManyForReprocess(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const idle = await this.#files.find({ _id: { $in: [...ids] }, status: { $ne: 'processing' } }, { projection: { _id: 1 } }).toArray();
    const resetIds = idle.map((d) => d._id);
    if (resetIds.length === 0) return [];
    // The status condition again: a file that started processing in between is left alone (and not returned).
    await this.#files.updateMany(
      { _id: { $in: resetIds }, status: { $ne: 'processing' } },
      { $set: { status: 'uploaded', error: null, startedAt: null, completedAt: null, steps: [], derivedBytes: 0 }, $inc: { rev: 1 } },
    );
    const after = await this.#files.find({ _id: { $in: resetIds }, status: 'uploaded' }, { projection: { _id: 1 } }).toArray();
    return after.map((d) => d._id);
  }

  async startStep(id: string, step: StepName): Promise<void> {
    const now = new Date();
    await this.#files.updateOne(
      { _id: id, steps: { $elemMatch: { name: step, status: { $in: UNFINISHED } } } },
      { $set: { 'steps.$.status': 'running', 'steps.$.startedAt': now, 'steps.$.heartbeatAt': now }, $inc: { 'steps.$.attempts': 1 } },
    );
  }

  async heartbeatStep(id: string, step: StepName): Promise<void> {
    await this.#files.updateOne({ _id: id, steps: { $elemMatch: { name: step, status: 'running' } } }, { $set: { 'steps.$.heartbeatAt': new Date() } });
  }

  async finishStep(id: string, step: StepName, outcome: StepOutcome): Promise<void> {
    const set: Record<string, unknown> = {
      'steps.$.status': outcome.status,
      'steps.$.durationMs': Math.round(outcome.durationMs),
      'steps.$.finishedAt': new Date(),
    };
    if (outcome.status === 'completed') {
      set['steps.$.error'] = null;
      set['steps.$.result'] = outcome.result;
    } else {
      set['steps.$.error'] = outcome.error;
    }
    await this.#files.updateOne({ _id: id, steps: { $elemMatch: { name: step, status: { $in: UNFINISHED } } } }, { $set: set });
  }

  async finalizeFile(id: string, outbox?: OutboxPlanner): Promise<SettledFile | null> {
    const doc = await this.#files.findOne({ _id: id });
    if (!doc || !readyToFinalize(toRecord(doc))) return null;
    // With no step pending or running, the steps of this rev can no longer change; the
    // conditional update makes exactly one concurrent caller the winner.
    const { status, error } = finalOutcome(doc.steps);
    const final: FileRecord = { ...toRecord(doc), status, error, completedAt: new Date() };
    const pending = await this.#pending(final, outbox);
    const updated = await this.#files.findOneAndUpdate(
      { _id: id, status: 'processing', rev: doc.rev, 'steps.status': { $nin: UNFINISHED } },
      { $set: { status, error, completedAt: final.completedAt }, ...(pending ? { $push: { pendingOutbox: pending } } : {}) },
      { returnDocument: 'after' },
    );
    return updated ? { ...toRecord(updated), notifications: await this.#materialize(id, pending) } : null;
  }

  async deleteFile(id: string, options: { readonly force?: boolean } = {}): Promise<DeleteFileOutcome> {
    const filter: Filter<FileDoc> = options.force ? { _id: id } : { _id: id, status: { $ne: 'processing' } };
    const doc = await this.#files.findOneAndDelete(filter);
    if (doc) return { status: 'deleted', file: toRecord(doc) };
    return { status: (await this.#files.countDocuments({ _id: id }, { limit: 1 })) > 0 ? 'busy' : 'missing' };
  }

  async failFile(id: string, reason: string, outbox?: OutboxPlanner): Promise<SettledFile | null> {
    // As on SQL: a file whose run changed between the read and the write is read again.
    for (let round = 0; round < 5; round++) {
      const doc = await this.#files.findOne({ _id: id });
      if (!doc || (doc.status !== 'uploaded' && doc.status !== 'processing')) return null;
      const final: FileRecord = { ...toRecord(doc), status: 'failed', error: reason, completedAt: new Date() };
      const pending = await this.#pending(final, outbox);
      const updated = await this.#files.findOneAndUpdate(
        { _id: id, status: doc.status, rev: doc.rev },
        { $set: { status: 'failed', error: reason, completedAt: final.completedAt }, ...(pending ? { $push: { pendingOutbox: pending } } : {}) },
        { returnDocument: 'after' },
      );
      if (updated) return { ...toRecord(updated), notifications: await this.#materialize(id, pending) };
    }
    return null;
  }

  async materializeOutbox(limit: number): Promise<NotificationRecord[]> {
    const docs = await this.#files
      .find({ 'pendingOutbox.token': { $exists: true } }, { projection: { _id: 1, pendingOutbox: 1 } })
      .limit(limit)
      .toArray();
    const created: NotificationRecord[] = [];
    for (const d of docs) for (const p of d.pendingOutbox ?? []) created.push(...(await this.#materialize(d._id, p)));
    return created;
  }

  /** The entries to store on the file with its final status (null: none). */
  async #pending(final: FileRecord, outbox: OutboxPlanner | undefined): Promise<PendingOutbox | null> {
    const entries = outbox ? await outbox(final) : [];
    return entries.length === 0 ? null : { token: randomUUID(), entries: [...entries] };
  }

  /**
   * Write one settlement's pending entries into the outbox (each idempotent by key), then drop
   * them from the file by their token (a later run's settlement may have pushed its own).
   */
  async #materialize(fileId: string, pending: PendingOutbox | null): Promise<NotificationRecord[]> {
    if (!pending) return [];
    const created = await this.outbox.write(pending.entries);
    await this.#files.updateOne({ _id: fileId }, { $pull: { pendingOutbox: { token: pending.token } } });
    return created;
  }

  async reopenStep(id: string, step: StepName): Promise<boolean> {
    const res = await this.#files.updateOne(
      { _id: id, status: 'failed', steps: { $elemMatch: { name: step, status: 'failed' } } },
      {
        $set: { status: 'processing', error: null, completedAt: null, 'steps.$.status': 'pending', 'steps.$.error': null, 'steps.$.finishedAt': null },
        $inc: { rev: 1 },
      },
    );
    return res.modifiedCount === 1;
  }
}

/** Connects at once so a wrong URL fails at start-up rather than on the first request. */
export async function createMongoStore(url: string, log: Logger, stepOrder?: StepOrder): Promise<MongoStore> {
  const client = new MongoClient(url);
  await client.connect();
  return new MongoStore(client, log, stepOrder);
}
