import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import type { Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { occurrenceOf } from '../../src/schedules/runs.js';
import { createStore } from '../../src/store/index.js';
import { createTempDir, createTempPgDatabase, SKIP_NO_POSTGRES } from '../helpers/env.js';
import type { WorkerMessage } from './fixtures/schedule-worker.js';

const EVERY = '*/2 * * * * *';
const RUN_MS = 7_500;

interface Worker {
  proc: ChildProcess;
  messages: WorkerMessage[];
  wait(pred: (m: WorkerMessage) => boolean, ms?: number): Promise<void>;
  exited: Promise<number | null>;
}

function startWorker(env: NodeJS.ProcessEnv): Worker {
  const proc = fork(fileURLToPath(new URL('./fixtures/schedule-worker.js', import.meta.url)), [], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages: WorkerMessage[] = [];
  const listeners = new Set<() => void>();
  proc.on('message', (m) => {
    messages.push(m as WorkerMessage);
    for (const l of listeners) l();
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
  return {
    proc,
    messages,
    exited,
    wait: (pred, ms = 30_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error('timed out waiting for the worker')), ms);
        const finish = (err?: Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (err) reject(err);
          else resolve();
        };
        const check = () => {
          const failed = messages.find((m) => 'error' in m);
          if (failed) return finish(new Error(`worker failed: ${failed.error}`));
          if (messages.some(pred)) finish();
        };
        listeners.add(check);
        check();
      }),
  };
}

/**
 * Two real worker processes start together on one database with cleanup-stuck every 2 s:
 * every occurrence runs exactly once, there is one Agenda row, one run record per occurrence.
 */
async function twoWorkers(databaseUrl: string, dataDir: string, database: Config['database']) {
  const env = {
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    SCHEDULE_CLEANUP_STUCK: EVERY,
    SCHEDULE_DAILY_SUMMARY: 'off',
    SCHEDULE_QUOTA_CHECK: 'off',
    POLL_INTERVAL_MS: '300',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    SHUTDOWN_TIMEOUT_MS: '3000',
  };
  const workers = [startWorker(env), startWorker(env)];
  try {
    await Promise.all(workers.map((w) => w.wait((m) => 'ready' in m)));
    for (const w of workers) w.proc.send('go');
    await Promise.all(workers.map((w) => w.wait((m) => 'started' in m)));
    await new Promise((r) => setTimeout(r, RUN_MS));
  } finally {
    for (const w of workers) if (w.proc.connected) w.proc.send('stop');
    const codes = await Promise.all(workers.map((w) => w.exited));
    assert.deepEqual(codes, [0, 0], 'both workers exit by themselves');
  }
  const starts = workers.flatMap((w) => w.messages.filter((m): m is Extract<WorkerMessage, { ran: string }> => 'ran' in m));
  const schedule = { every: EVERY, timezone: 'UTC' };
  const perOccurrence = new Map<string, number>();
  for (const s of starts) {
    const occ = occurrenceOf(schedule, new Date(s.lastRunAt));
    perOccurrence.set(occ, (perOccurrence.get(occ) ?? 0) + 1);
  }
  assert.ok(perOccurrence.size >= 3, `at least 3 occurrences ran in ${RUN_MS} ms, got ${perOccurrence.size}`);
  for (const [occ, n] of perOccurrence) assert.equal(n, 1, `occurrence ${occ} ran ${n} times`);
  assert.ok(
    starts.every((s) => s.ran === 'cleanup-stuck'),
    'disabled schedules never ran',
  );

  const store = await createStore(database, { log: createLogger('silent') });
  try {
    const runs = await store.runs.list('cleanup-stuck', 100);
    assert.equal(runs.length, starts.length, 'one run record per Agenda start: no run was ever skipped as a duplicate');
    assert.ok(runs.every((r) => r.status === 'succeeded' && r.result !== null && typeof r.result.blobsPurged === 'number'));
  } finally {
    await store.close();
  }
  return { occurrences: perOccurrence.size, starts: starts.length, workersUsed: new Set(starts.map((s) => s.pid)).size };
}

describe('two workers on one PostgreSQL run each occurrence once', { skip: SKIP_NO_POSTGRES }, () => {
  let db: Awaited<ReturnType<typeof createTempPgDatabase>>;
  let tmp: Awaited<ReturnType<typeof createTempDir>>;
  before(async () => {
    db = await createTempPgDatabase();
    tmp = await createTempDir();
  });
  after(async () => {
    await db?.drop();
    await tmp?.remove();
  });

  test('cleanup-stuck every 2 s', async () => {
    const r = await twoWorkers(db.url, tmp.dir, { kind: 'postgres', url: db.url });
    const pg = await import('pg');
    const c = new pg.default.Client({ connectionString: db.url });
    await c.connect();
    try {
      const rows = await c.query<{ name: string; n: string }>(`SELECT name, count(*) AS n FROM agenda_jobs WHERE type = 'single' GROUP BY name ORDER BY name`);
      assert.deepEqual(
        rows.rows.map((x) => [x.name, Number(x.n)]),
        [['cleanup-stuck', 1]],
        'one repeating row, none for the schedules that are off',
      );
    } finally {
      await c.end();
    }
    assert.ok(r.starts >= 3);
  });
});

describe('two workers on one SQLite file run each occurrence once', () => {
  let tmp: Awaited<ReturnType<typeof createTempDir>>;
  before(async () => {
    tmp = await createTempDir();
  });
  after(async () => {
    await tmp?.remove();
  });

  test('cleanup-stuck every 2 s', async () => {
    const path = join(tmp.dir, 'ns.db');
    const r = await twoWorkers(`sqlite:${path}`, tmp.dir, { kind: 'sqlite', path });
    const { default: Sqlite } = await import('better-sqlite3');
    const jobsDb = new Sqlite(join(tmp.dir, 'ns-jobs.db'), { readonly: true });
    try {
      const n = jobsDb.prepare(`SELECT count(*) AS n FROM agenda_jobs WHERE name = 'cleanup-stuck'`).get() as { n: number };
      assert.equal(n.n, 1);
    } finally {
      jobsDb.close();
    }
    assert.ok(r.starts >= 3);
  });
});
