import type { Collection, Db } from 'mongodb';

import type { Control, ControlRepo, RunningJob, WorkerBeat, WorkerRecord, WorkerRepo } from './ops-types.js';
import { workerState } from './ops-types.js';

interface WorkerDoc {
  _id: string;
  host: string;
  pid: number;
  role: string;
  jobs: string[];
  concurrency: number;
  running: RunningJob[];
  startedAt: Date;
  version: string;
  heartbeatMs: number;
  heartbeatAt: Date;
  locksReleasedAt: Date | null;
}

interface ControlDoc {
  _id: string;
  by: string | null;
  at: Date;
}

/** The workers registry on MongoDB: one document per process, keyed by its id. */
export class MongoWorkers implements WorkerRepo {
  readonly #workers: Collection<WorkerDoc>;

  constructor(db: Db) {
    this.#workers = db.collection<WorkerDoc>('workers');
  }

  async ensureIndexes(): Promise<string[]> {
    return this.#workers.createIndexes([{ key: { heartbeatAt: 1 }, name: 'workers_heartbeat_idx' }]);
  }

  async beat(w: WorkerBeat, now: Date): Promise<void> {
    const { id, ...rest } = w;
    await this.#workers.updateOne(
      { _id: id },
      { $set: { ...rest, jobs: [...rest.jobs], running: rest.running.map((j) => ({ ...j })), heartbeatAt: now, locksReleasedAt: null } },
      { upsert: true },
    );
  }

  async list(now: Date): Promise<WorkerRecord[]> {
    const docs = await this.#workers.find({}).sort({ _id: 1 }).toArray();
    return docs.map(({ _id, ...d }) => ({ id: _id, ...d, state: workerState(d.heartbeatAt, d.heartbeatMs, now) }));
  }

  async markReleased(id: string, at: Date): Promise<void> {
    await this.#workers.updateOne({ _id: id }, { $set: { locksReleasedAt: at } });
  }

  async remove(id: string): Promise<void> {
    await this.#workers.deleteOne({ _id: id });
  }

  async purge(before: Date): Promise<number> {
    return (await this.#workers.deleteMany({ heartbeatAt: { $lt: before } })).deletedCount;
  }
}

/** Stored controls on MongoDB, keyed by the control's key. */
export class MongoControls implements ControlRepo {
  readonly #controls: Collection<ControlDoc>;

  constructor(db: Db) {
    this.#controls = db.collection<ControlDoc>('controls');
  }

  async set(key: string, by: string | null, now: Date): Promise<void> {
    await this.#controls.updateOne({ _id: key }, { $setOnInsert: { by, at: now } }, { upsert: true });
  }

  async clear(key: string): Promise<boolean> {
    return (await this.#controls.deleteOne({ _id: key })).deletedCount > 0;
  }

  async list(): Promise<Control[]> {
    const docs = await this.#controls.find({}).sort({ _id: 1 }).toArray();
    return docs.map((d) => ({ key: d._id, by: d.by, at: d.at }));
  }
}
