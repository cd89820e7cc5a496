import type { Collection, Db } from 'mongodb';

import { isDuplicateKey } from './mongo-owners.js';
import type { BeginRun, JobRun, RunOutcome, RunRepo, RunStatus } from './run-types.js';

interface RunDoc {
  /** `${job}\u0000${occurrence}`: the unique key is the primary key. */
  _id: string;
  job: string;
  occurrence: string;
  status: RunStatus;
  worker: string | null;
  startedAt: Date;
  finishedAt: Date | null;
  result: Record<string, number> | null;
  error: string | null;
}

const keyOf = (job: string, occurrence: string) => `${job}\u0000${occurrence}`;

function toRun(d: RunDoc): JobRun {
  return {
    job: d.job,
    occurrence: d.occurrence,
    status: d.status,
    worker: d.worker,
    startedAt: d.startedAt,
    finishedAt: d.finishedAt,
    result: d.result ? { ...d.result } : null,
    error: d.error,
  };
}

/** Job runs on MongoDB: one document per (job, occurrence), keyed by _id. */
export class MongoRuns implements RunRepo {
  readonly #runs: Collection<RunDoc>;

  constructor(db: Db) {
    this.#runs = db.collection<RunDoc>('job_runs');
  }

  async ensureIndexes(): Promise<string[]> {
    return this.#runs.createIndexes([
      { key: { job: 1, startedAt: -1 }, name: 'job_runs_job_started_idx' },
      { key: { startedAt: 1 }, name: 'job_runs_started_idx' },
    ]);
  }

  async begin(run: BeginRun): Promise<boolean> {
    const now = new Date();
    const fresh = { status: 'running' as const, worker: run.worker, startedAt: now, finishedAt: null, result: null, error: null };
    try {
      // Matches only a row that may be taken over; with none, the upsert inserts, and a
      // live or finished row makes that insert collide on _id.
      const r = await this.#runs.updateOne(
        { _id: keyOf(run.job, run.occurrence), $or: [{ status: 'failed' }, { status: 'running', startedAt: { $lt: run.staleBefore } }] },
        { $set: fresh, $setOnInsert: { job: run.job, occurrence: run.occurrence } },
        { upsert: true },
      );
      return r.modifiedCount + r.upsertedCount === 1;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  async finish(job: string, occurrence: string, outcome: RunOutcome): Promise<void> {
    await this.#runs.updateOne(
      { _id: keyOf(job, occurrence) },
      {
        $set: {
          status: outcome.status,
          finishedAt: new Date(),
          result: outcome.result ? { ...outcome.result } : null,
          error: outcome.status === 'failed' ? outcome.error : null,
        },
      },
    );
  }

  async list(job: string, limit: number): Promise<JobRun[]> {
    const docs = await this.#runs.find({ job }).sort({ startedAt: -1 }).limit(limit).toArray();
    return docs.map(toRun);
  }

  async purge(before: Date): Promise<number> {
    const r = await this.#runs.deleteMany({ startedAt: { $lt: before }, status: { $ne: 'running' } });
    return r.deletedCount;
  }
}
