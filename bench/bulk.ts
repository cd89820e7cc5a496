/**
 * Bulk reprocess on PostgreSQL: 10,000 process-file enqueues through the engine's bulk path
 * (one INSERT … unnest per 1,000 jobs) against the single-save baseline (engine.enqueue, 50 in
 * flight), in the same run on fresh databases; then a whole `reprocess --status failed` of
 * 10,000 failed files (find, reset, bulk enqueue).
 *
 *   npm run build && node dist/bench/bulk.js     (TEST_POSTGRES_URL, default the local server)
 */
import { randomUUID } from 'node:crypto';

import pg from 'pg';

import { createEngineBackend } from '../src/engine/backends.js';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { createLogger } from '../src/logger.js';
import { reprocessFiles } from '../src/ops/bulk.js';
import { loadConfig, registry } from '../src/registry.js';
import { createStore } from '../src/store/index.js';
import type { Store } from '../src/store/types.js';

const N = 10_000;
const adminUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const log = createLogger('silent');

async function withDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const name = `ns_bench_${Math.random().toString(36).slice(2, 10)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    return await fn(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

async function openEngine(url: string): Promise<{ engine: Engine; store: Store; close: () => Promise<void> }> {
  const config = loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent' }, 'api');
  const store = await createStore(config.database, { log });
  await store.migrate();
  const engine = await createEngine({
    backend: await createEngineBackend(config.database, { log }),
    jobs: registry.jobs.map((definition) => ({ definition, options: config.jobs[definition.name] })),
    serve: new Set(),
    services: { config, store, blobs: undefined as never, notify: undefined as never, steps: [] },
    log,
    pollIntervalMs: 5_000,
    name: 'bench',
  });
  return { engine, store, close: async () => (await engine.stop(0), await store.close()) };
}

const payloads = Array.from({ length: N }, () => ({ fileId: randomUUID() }));

const bulkMs = await withDatabase(async (url) => {
  const { engine, close } = await openEngine(url);
  try {
    const t = performance.now();
    const n = await engine.enqueueMany('process-file', payloads);
    if (n !== N) throw new Error(`bulk enqueued ${n}`);
    return performance.now() - t;
  } finally {
    await close();
  }
});

const singleMs = await withDatabase(async (url) => {
  const { engine, close } = await openEngine(url);
  try {
    const t = performance.now();
    for (let i = 0; i < N; i += 50) await Promise.all(payloads.slice(i, i + 50).map((p) => engine.enqueue('process-file', p)));
    return performance.now() - t;
  } finally {
    await close();
  }
});

const reprocess = await withDatabase(async (url) => {
  const { engine, store, close } = await openEngine(url);
  try {
    // 10,000 failed files, written straight into the table.
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const ids = payloads.map((p) => p.fileId);
    await db.query(
      `INSERT INTO files (id, owner, filename, content_type, size, blob_key, status, error, uploaded_at)
       SELECT id, 'bench', 'f.png', 'image/png', 1, 'originals/' || id, 'failed', 'ocr: boom', $2 FROM unnest($1::text[]) AS id`,
      [ids, Date.now()],
    );
    await db.end();
    const t = performance.now();
    const n = await reprocessFiles({ store, engine, notify: undefined as never, config: undefined as never, steps: [], log }, { status: 'failed' });
    return { n, ms: performance.now() - t };
  } finally {
    await close();
  }
});

const fmt = (ms: number) => `${Math.round(ms)} ms (${Math.round((N * 1000) / ms)} jobs/s)`;
console.log(`PostgreSQL, ${N.toLocaleString('en')} process-file enqueues:`);
console.log(`  bulk (enqueueMany, 1,000 per statement): ${fmt(bulkMs)}`);
console.log(`  single saves (enqueue, 50 in flight):    ${fmt(singleMs)}`);
console.log(`  speed-up: ${(singleMs / bulkMs).toFixed(1)}x`);
console.log(`  whole reprocess --status failed of ${reprocess.n.toLocaleString('en')} failed files (find, reset, enqueue): ${Math.round(reprocess.ms)} ms`);
