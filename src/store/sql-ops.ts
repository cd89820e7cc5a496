import type { Kysely, Selectable } from 'kysely';

import type { Control, ControlRepo, RunningJob, WorkerBeat, WorkerRecord, WorkerRepo } from './ops-types.js';
import { workerState } from './ops-types.js';
import { parseJson, toDate, toDateOrNull } from './rows.js';
import type { Database, WorkersTable } from './schema.js';

type StoredRunning = Omit<RunningJob, 'startedAt'> & { startedAt: number };

function workerFromRow(r: Selectable<WorkersTable>, now: Date): WorkerRecord {
  const heartbeatAt = toDate(r.heartbeat_at);
  const running = (parseJson(r.running) as StoredRunning[] | null) ?? [];
  return {
    id: r.id,
    host: r.host,
    pid: Number(r.pid),
    role: r.role,
    jobs: (parseJson(r.jobs) as string[] | null) ?? [],
    concurrency: Number(r.concurrency),
    running: running.map((j) => ({ ...j, startedAt: new Date(j.startedAt) })),
    startedAt: toDate(r.started_at),
    version: r.version,
    heartbeatMs: Number(r.heartbeat_ms),
    heartbeatAt,
    state: workerState(heartbeatAt, Number(r.heartbeat_ms), now),
    locksReleasedAt: toDateOrNull(r.locks_released_at),
  };
}

/** The workers registry over Kysely (SQLite and PostgreSQL). */
export class SqlWorkers implements WorkerRepo {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async beat(w: WorkerBeat, now: Date): Promise<void> {
    const values = {
      host: w.host,
      pid: w.pid,
      role: w.role,
      jobs: JSON.stringify(w.jobs),
      concurrency: w.concurrency,
      running: JSON.stringify(w.running.map((j) => ({ ...j, startedAt: j.startedAt.getTime() }))),
      started_at: w.startedAt.getTime(),
      version: w.version,
      heartbeat_ms: w.heartbeatMs,
      heartbeat_at: now.getTime(),
      locks_released_at: null,
    };
    await this.#db
      .insertInto('workers')
      .values({ id: w.id, ...values })
      .onConflict((oc) => oc.column('id').doUpdateSet(values))
      .execute();
  }

  async list(now: Date): Promise<WorkerRecord[]> {
    const rows = await this.#db.selectFrom('workers').selectAll().orderBy('id').execute();
    return rows.map((r) => workerFromRow(r, now));
  }

  async markReleased(id: string, at: Date): Promise<void> {
    await this.#db.updateTable('workers').set({ locks_released_at: at.getTime() }).where('id', '=', id).execute();
  }

  async remove(id: string): Promise<void> {
    await this.#db.deleteFrom('workers').where('id', '=', id).execute();
  }

  async purge(before: Date): Promise<number> {
    const r = await this.#db.deleteFrom('workers').where('heartbeat_at', '<', before.getTime()).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

/** Stored controls over Kysely. */
export class SqlControls implements ControlRepo {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async set(key: string, by: string | null, now: Date): Promise<void> {
    await this.#db
      .insertInto('controls')
      .values({ key, by, at: now.getTime() })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
  }

  async clear(key: string): Promise<boolean> {
    const r = await this.#db.deleteFrom('controls').where('key', '=', key).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async list(): Promise<Control[]> {
    const rows = await this.#db.selectFrom('controls').selectAll().orderBy('key').execute();
    return rows.map((r) => ({ key: r.key, by: r.by, at: toDate(r.at) }));
  }
}
