import type { Collection, Filter } from 'mongodb';

import type { FileDoc } from './mongo-docs.js';
import type { ActivitySummary, ReportQueries, RunningStep } from './report-types.js';
import { buildSummary, HOUR_MS } from './summary.js';

const ID_CHUNK = 1000;

/** Housekeeping reads on MongoDB's files collection (steps embedded). */
export class MongoReports implements ReportQueries {
  readonly #files: Collection<FileDoc>;

  constructor(files: Collection<FileDoc>) {
    this.#files = files;
  }

  async ensureIndexes(): Promise<string[]> {
    return this.#files.createIndexes([
      {
        key: { owner: 1, completedAt: 1, status: 1 },
        name: 'files_owner_finished_idx',
        partialFilterExpression: { completedAt: { $type: 'date' } },
      },
      { key: { uploadedAt: 1, owner: 1 }, name: 'files_uploaded_owner_idx' },
      { key: { status: 1, startedAt: 1 }, name: 'files_status_started_idx' },
      { key: { owner: 1, size: 1, derivedBytes: 1 }, name: 'files_owner_usage_idx' },
    ]);
  }

  async findRunningSteps(heartbeatBefore: Date, limit: number): Promise<RunningStep[]> {
    const stale = { status: 'running', heartbeatAt: { $lt: heartbeatBefore } };
    const rows = await this.#files
      .aggregate<{ _id: string; step: { name: string; attempts: number; heartbeatAt: Date | null; startedAt: Date | null } }>([
        { $match: { steps: { $elemMatch: stale } } },
        { $unwind: '$steps' },
        { $match: { 'steps.status': stale.status, 'steps.heartbeatAt': stale.heartbeatAt } },
        { $sort: { 'steps.heartbeatAt': 1, _id: 1 } },
        { $limit: limit },
        { $project: { step: '$steps' } },
      ])
      .toArray();
    return rows.map((r) => ({
      fileId: r._id,
      step: r.step.name,
      attempts: r.step.attempts,
      heartbeatAt: r.step.heartbeatAt,
      startedAt: r.step.startedAt,
    }));
  }

  async findProcessingFiles(startedBefore: Date, limit: number): Promise<Array<{ id: string; owner: string | null; startedAt: Date | null }>> {
    const docs = await this.#files
      .find({ status: 'processing', startedAt: { $lt: startedBefore } }, { projection: { owner: 1, startedAt: 1 } })
      .sort({ startedAt: 1, _id: 1 })
      .limit(limit)
      .toArray();
    return docs.map((d) => ({ id: d._id, owner: d.owner, startedAt: d.startedAt }));
  }

  async ownersWithActivity(from: Date, to: Date): Promise<string[]> {
    const range = { $gte: from, $lt: to };
    const [uploaded, finished] = await Promise.all([
      this.#files.distinct('owner', { owner: { $ne: null }, uploadedAt: range }),
      this.#files.distinct('owner', { owner: { $ne: null }, completedAt: range }),
    ]);
    return [...new Set([...uploaded, ...finished])].filter((o): o is string => typeof o === 'string').sort();
  }

  async summarize(owner: string | null, from: Date, to: Date): Promise<ActivitySummary> {
    const mine: Filter<FileDoc> = owner === null ? {} : { owner };
    const range = { $gte: from, $lt: to };
    const [uploads, finished, failures] = await Promise.all([
      this.#files
        .aggregate<{ _id: number; n: number }>([
          { $match: { ...mine, uploadedAt: range } },
          { $group: { _id: { $floor: { $divide: [{ $subtract: ['$uploadedAt', from] }, HOUR_MS] } }, n: { $sum: 1 } } },
        ])
        .toArray(),
      this.#files.find({ ...mine, completedAt: range }, { projection: { status: 1, startedAt: 1, completedAt: 1 } }).toArray(),
      this.#files
        .aggregate<{ _id: string; n: number }>([
          { $match: { ...mine, completedAt: range, status: 'failed' } },
          { $group: { _id: { $ifNull: ['$error', 'unknown'] }, n: { $sum: 1 } } },
          { $sort: { n: -1, _id: 1 } },
          { $limit: 5 },
        ])
        .toArray(),
    ]);
    return buildSummary(from, to, {
      uploadsByBucket: uploads.map((u) => ({ bucket: u._id, n: u.n })),
      finished: finished.map((d) => ({
        failed: d.status === 'failed',
        completedAt: d.completedAt?.getTime() ?? 0,
        startedAt: d.startedAt ? d.startedAt.getTime() : null,
      })),
      topFailures: failures.map((f) => ({ reason: f._id, count: f.n })),
    });
  }

  async usageByOwner(): Promise<Map<string, number>> {
    const rows = await this.#usage({ owner: { $ne: null } });
    return new Map(rows.map((r) => [r._id, r.bytes]));
  }

  async usageOf(owner: string): Promise<number> {
    return (await this.#usage({ owner }))[0]?.bytes ?? 0;
  }

  async addDerivedBytes(fileId: string, bytes: number): Promise<void> {
    await this.#files.updateOne({ _id: fileId }, { $inc: { derivedBytes: bytes } });
  }

  async existingFileIds(ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < ids.length; i += ID_CHUNK) {
      const docs = await this.#files.find({ _id: { $in: ids.slice(i, i + ID_CHUNK) } }, { projection: { _id: 1 } }).toArray();
      for (const d of docs) found.add(d._id);
    }
    return found;
  }

  async countFilesByStatus(): Promise<Record<string, number>> {
    const rows = await this.#files.aggregate<{ _id: string; n: number }>([{ $group: { _id: '$status', n: { $sum: 1 } } }]).toArray();
    return Object.fromEntries(rows.map((r) => [r._id, r.n]));
  }

  #usage(match: Filter<FileDoc>): Promise<Array<{ _id: string; bytes: number }>> {
    return this.#files
      .aggregate<{ _id: string; bytes: number }>([
        { $match: match },
        // Files written before derivedBytes existed have no such field.
        { $group: { _id: '$owner', bytes: { $sum: { $add: ['$size', { $ifNull: ['$derivedBytes', 0] }] } } } },
      ])
      .toArray();
  }
}
