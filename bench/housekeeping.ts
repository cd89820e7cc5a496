/**
 * Run time of the whole `daily-summary` job (and `cleanup-stuck`) over 100,000 seeded files, on
 * SQLite and on PostgreSQL, with the plans of the queries the summary makes per owner.
 *
 *   node .build-summary/bench/housekeeping.js [files]   (default 100000; PostgreSQL from
 *   BENCH_POSTGRES_URL or TEST_POSTGRES_URL, skipped when neither is set)
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

import BetterSqlite3 from 'better-sqlite3';
import { type CompiledQuery, Kysely, type LogEvent, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';

import cleanupStuck from '../jobs/cleanup-stuck.js';
import type { JobContext } from '../src/engine/job.js';
import { createLogger } from '../src/logger.js';
import { loadConfig } from '../src/registry.js';
import { startService } from '../src/service.js';
import type { Database } from '../src/store/schema.js';
import { SqlReports } from '../src/store/sql-reports.js';
import type { FileStatus } from '../src/store/types.js';
import { runDailySummary } from '../src/summary/run.js';
import { dueWindow } from '../src/summary/time.js';
import { createTempDir, createTempPgDatabase } from '../test/helpers/env.js';
import { type SeedFile, seedSqlFiles } from '../test/store/seed.js';
import { mulberry32 } from './random.js';

const FILES = Number(process.argv[2] ?? 100_000);
const OWNERS = 300;
const H = 3_600_000;
const ZONES = ['UTC', 'Asia/Tokyo', 'America/New_York', 'Europe/Berlin', 'Australia/Sydney'];
const REASONS = ['ocr: image is truncated', 'thumbnail: unsupported type', 'analyze: model busy', 'stuck: no heartbeat'];
const log = createLogger('silent');

/** n files over the last 24 h (plus a day before, for the later timezones), 300 owners, mixed outcomes. */
function makeFiles(n: number, end: number): SeedFile[] {
  const rnd = mulberry32(7);
  return Array.from({ length: n }, (): SeedFile => {
    const uploaded = end - Math.floor(rnd() * 36 * H);
    const r = rnd();
    const status: FileStatus = r < 0.85 ? 'completed' : r < 0.93 ? 'failed' : r < 0.97 ? 'processing' : 'uploaded';
    const started = status === 'uploaded' ? null : uploaded + Math.floor(rnd() * 5000);
    const done = status === 'completed' || status === 'failed' ? (started ?? uploaded) + 200 + Math.floor(rnd() * rnd() * 60_000) : null;
    return {
      id: randomUUID(),
      owner: `owner_${String(Math.floor(rnd() * rnd() * OWNERS)).padStart(3, '0')}`,
      status,
      uploadedAt: new Date(uploaded),
      startedAt: started === null ? null : new Date(started),
      completedAt: done === null ? null : new Date(done),
      error: status === 'failed' ? (REASONS[Math.floor(rnd() * REASONS.length)] ?? null) : null,
      size: 10_000 + Math.floor(rnd() * 2_000_000),
      derivedBytes: status === 'completed' ? 20_000 : 0,
      steps:
        status === 'processing'
          ? [
              { name: 'analyze', status: 'completed', attempts: 1, startedAt: new Date(started ?? uploaded) },
              {
                name: 'thumbnail',
                status: 'running',
                attempts: 1,
                startedAt: new Date(started ?? uploaded),
                heartbeatAt: new Date((started ?? uploaded) + 1000),
              },
              { name: 'ocr', status: 'pending' },
            ]
          : [],
    };
  });
}

async function explainAll(kind: 'sqlite' | 'postgres', target: string, end: Date): Promise<void> {
  const captured: CompiledQuery[] = [];
  const logQ = (e: LogEvent): void => {
    if (e.level === 'query') captured.push(e.query);
  };
  let db: Kysely<Database>;
  let explain: (q: CompiledQuery) => Promise<string>;
  if (kind === 'sqlite') {
    const database = new BetterSqlite3(target);
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database }), log: logQ });
    explain = async (q) =>
      (database.prepare(`explain query plan ${q.sql}`).all(...(q.parameters as unknown[])) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
  } else {
    const pool = new pg.Pool({ connectionString: target, max: 2 });
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: logQ });
    explain = async (q) =>
      (await pool.query<{ 'QUERY PLAN': string }>(`explain (costs off) ${q.sql}`, q.parameters as unknown[])).rows
        .map((x) => x['QUERY PLAN'].trim().replace(/^->\s*/, ''))
        .filter((l) => /Scan|Aggregate|Append|Unique|HashSetOp/.test(l))
        .join(' | ');
  }
  const reports = new SqlReports(db);
  const from = new Date(end.getTime() - 24 * H);
  for (const [name, run] of [
    ['ownersWithActivity(48 h)', () => reports.ownersWithActivity(new Date(end.getTime() - 48 * H), end)],
    ['summarize(owner_001)', () => reports.summarize('owner_001', from, end)],
    ['summarize(all)', () => reports.summarize(null, from, end)],
    ['usageOf(owner_001)', () => reports.usageOf('owner_001')],
    ['usageByOwner()', () => reports.usageByOwner()],
  ] as const) {
    captured.length = 0;
    await run();
    for (const q of captured) console.log(`  ${name.padEnd(26)} ${await explain(q)}`);
  }
  await db.destroy();
}

async function benchOne(kind: 'sqlite' | 'postgres'): Promise<void> {
  const tmp = await createTempDir('nightshift-bench-');
  const pgDb = kind === 'postgres' ? await createTempPgDatabase() : undefined;
  const dbUrl = pgDb ? pgDb.url : `sqlite:${join(tmp.dir, 'ns.db')}`;
  const now = new Date();
  const localTime = new Date(now.getTime() - 60_000).toISOString().slice(11, 16);
  const config = loadConfig(
    { DATA_DIR: tmp.dir, PORT: '0', LOG_LEVEL: 'silent', DATABASE_URL: dbUrl, SUMMARY_LOCAL_TIME: localTime, NOTIFY_ADMINS: 'console:admin' },
    'api',
  );
  const service = await startService(config, log);
  try {
    // The api role: no worker competes with the handlers measured here.
    for (let i = 0; i < OWNERS; i++) {
      await service.store.owners.upsert(`owner_${String(i).padStart(3, '0')}`, { timezone: ZONES[i % ZONES.length] ?? 'UTC', quotaBytes: 5e9 });
    }
    const files = makeFiles(FILES, now.getTime());
    let t = performance.now();
    const { openPostgres, openSqlite } = await import('../src/store/connect.js');
    const db = pgDb ? openPostgres(pgDb.url, log, 4) : openSqlite(join(tmp.dir, 'ns.db'));
    await seedSqlFiles(db, files, 500);
    if (kind === 'postgres') await (await import('kysely')).sql`vacuum analyze files`.execute(db);
    else await (await import('kysely')).sql`analyze`.execute(db);
    await db.destroy();
    console.log(`\n== ${kind}: seeded ${files.length} files, ${OWNERS} owners in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const services = service.engine.services;
    const due = dueWindow(now, localTime, 'UTC');
    t = performance.now();
    const first = await runDailySummary(services, now, log);
    console.log(
      `daily-summary, first run:  ${((performance.now() - t) / 1000).toFixed(2)} s  ${JSON.stringify(first)}  (UTC window ${due.from.toISOString()} – ${due.to.toISOString()})`,
    );
    t = performance.now();
    const again = await runDailySummary(services, now, log);
    console.log(`daily-summary, re-run:     ${((performance.now() - t) / 1000).toFixed(2)} s  ${JSON.stringify(again)}`);

    const ctx = {
      jobId: 'bench',
      name: 'cleanup-stuck',
      data: {},
      attempt: 1,
      maxAttempts: 1,
      log,
      signal: new AbortController().signal,
      heartbeat: async () => {},
      services,
    } as unknown as JobContext<'cleanup-stuck'>;
    t = performance.now();
    const counts = (await cleanupStuck.handler(ctx)) as unknown;
    console.log(`cleanup-stuck:             ${((performance.now() - t) / 1000).toFixed(2)} s  ${JSON.stringify(counts)}`);
    console.log('plans:');
    await explainAll(kind, pgDb ? pgDb.url : join(tmp.dir, 'ns.db'), now);
  } finally {
    await service.stop();
    await pgDb?.drop();
    await tmp.remove();
  }
}

async function main(): Promise<void> {
  await benchOne('sqlite');
  if (process.env.BENCH_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL) await benchOne('postgres');
  else console.log('\n== postgres: skipped (set TEST_POSTGRES_URL or BENCH_POSTGRES_URL)');
}

await main();
process.exit(0);
