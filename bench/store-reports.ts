/**
 * Housekeeping reads over 100,000 seeded files, on SQLite and on PostgreSQL: median time of
 * summarize (everyone, a big owner, a small owner), ownersWithActivity, usageByOwner, usageOf
 * and findRunningSteps, with each query's plan condensed to the access paths it uses.
 *
 *   node .build-store2/bench/store-reports.js [files]     (default 100000; PostgreSQL from
 *   BENCH_POSTGRES_URL or TEST_POSTGRES_URL, skipped when neither is set)
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import BetterSqlite3 from 'better-sqlite3';
import { type CompiledQuery, Kysely, type LogEvent, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';

import { createLogger } from '../src/logger.js';
import { runMigrations } from '../src/store/migrations.js';
import type { SqlKind } from '../src/store/schema.js';
import type { Database } from '../src/store/schema.js';
import { SqlReports } from '../src/store/sql-reports.js';
import type { FileStatus } from '../src/store/types.js';
import { type SeedFile, seedSqlFiles, type SeedStep } from '../test/store/seed.js';
import { mulberry32 } from './random.js';

const FILES = Number(process.argv[2] ?? 100_000);
const OWNERS = 200;
const H = 3_600_000;
const END = Date.UTC(2026, 0, 10);
const DAYS = 4;
const REASONS = ['ocr: image is truncated', 'thumbnail: unsupported type', 'analyze: model busy', 'ocr: no text layer', 'stuck: no heartbeat'];

/** 100k files over 4 days; 200 owners with Zipf-like shares (owner_000 ≈ 17 %), 5 % anonymous. */
function makeFiles(n: number): SeedFile[] {
  const rnd = mulberry32(42);
  const weights = Array.from({ length: OWNERS }, (_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const pickOwner = (): string | null => {
    if (rnd() < 0.05) return null;
    let r = rnd() * total;
    for (let i = 0; i < OWNERS; i++) if ((r -= weights[i] ?? 0) <= 0) return `owner_${String(i).padStart(3, '0')}`;
    return `owner_${OWNERS - 1}`;
  };
  return Array.from({ length: n }, (): SeedFile => {
    const uploaded = END - Math.floor(rnd() * DAYS * 24 * H);
    const r = rnd();
    const status: FileStatus = r < 0.85 ? 'completed' : r < 0.93 ? 'failed' : r < 0.97 ? 'processing' : 'uploaded';
    const started = status === 'uploaded' ? null : uploaded + Math.floor(rnd() * 5000);
    const done = status === 'completed' || status === 'failed' ? (started ?? uploaded) + 200 + Math.floor(rnd() * rnd() * 60_000) : null;
    const at = (ms: number | null) => (ms === null ? null : new Date(ms));
    const steps: SeedStep[] =
      status === 'uploaded'
        ? []
        : status === 'processing'
          ? [
              { name: 'analyze', status: 'completed', attempts: 1, startedAt: at(started), heartbeatAt: at(started) },
              { name: 'thumbnail', status: 'running', attempts: 1, startedAt: at(started), heartbeatAt: at((started ?? 0) + Math.floor(rnd() * 600_000)) },
              { name: 'ocr', status: 'pending' },
            ]
          : (['analyze', 'thumbnail', 'ocr'] as const).map((name, i) => ({
              name,
              status: status === 'failed' && i === 2 ? 'failed' : 'completed',
              attempts: 1,
              startedAt: at(started),
              heartbeatAt: at(started),
            }));
    return {
      id: randomUUID(),
      owner: pickOwner(),
      status,
      uploadedAt: new Date(uploaded),
      startedAt: at(started),
      completedAt: at(done),
      error: status === 'failed' ? (REASONS[Math.floor(rnd() * rnd() * REASONS.length)] ?? null) : null,
      size: 10_000 + Math.floor(rnd() * 5_000_000),
      derivedBytes: status === 'completed' ? 5_000 + Math.floor(rnd() * 40_000) : 0,
      steps,
    };
  });
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

interface Engine {
  kind: SqlKind;
  db: Kysely<Database>;
  /** The plan of one compiled query, condensed to one line. */
  explain(q: CompiledQuery): Promise<string>;
  prepare(): Promise<void>;
  close(): Promise<void>;
}

async function sqliteEngine(path: string, log: (e: LogEvent) => void): Promise<Engine> {
  const database = new BetterSqlite3(path);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }), log });
  return {
    kind: 'sqlite',
    db,
    async explain(q) {
      const rows = database.prepare(`explain query plan ${q.sql}`).all(...(q.parameters as unknown[])) as Array<{ detail: string }>;
      return rows.map((r) => r.detail).join(' | ');
    },
    async prepare() {
      database.exec('analyze');
    },
    close: () => db.destroy(),
  };
}

async function postgresEngine(url: string, log: (e: LogEvent) => void): Promise<Engine> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log });
  return {
    kind: 'postgres',
    db,
    async explain(q) {
      const r = await pool.query<{ 'QUERY PLAN': string }>(`explain (analyze, costs off, buffers off) ${q.sql}`, q.parameters as unknown[]);
      return r.rows
        .map((x) => x['QUERY PLAN'].trim().replace(/^->\s*/, ''))
        .filter((l) => /Scan|Aggregate|Sort|Append|Unique|Execution Time|Limit|HashSetOp/.test(l) && !/Sort Key|Sort Method|Heap Fetches/.test(l))
        .join(' | ');
    },
    async prepare() {
      // What autovacuum would have done on a live database: statistics and the visibility map
      // (index-only scans need it).
      await sql('vacuum analyze files');
      await sql('vacuum analyze file_steps');
    },
    close: () => db.destroy(),
  };
  async function sql(text: string) {
    await pool.query(text);
  }
}

async function bench(engine: Engine, files: readonly SeedFile[], captured: CompiledQuery[]): Promise<void> {
  const log = createLogger('silent');
  await runMigrations(engine.db as Kysely<unknown>, engine.kind, log);
  let t = performance.now();
  await seedSqlFiles(engine.db, files, 500);
  console.log(`\n== ${engine.kind}: seeded ${files.length} files in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  await engine.prepare();
  const reports = new SqlReports(engine.db);
  const from = new Date(END - 24 * H);
  const to = new Date(END);
  const cases: Array<[string, () => Promise<unknown>, (r: unknown) => string]> = [
    ['summarize(null, 24 h)', () => reports.summarize(null, from, to), (r) => describeSummary(r)],
    ['summarize(owner_000, 24 h)', () => reports.summarize('owner_000', from, to), (r) => describeSummary(r)],
    ['summarize(owner_150, 24 h)', () => reports.summarize('owner_150', from, to), (r) => describeSummary(r)],
    ['ownersWithActivity(24 h)', () => reports.ownersWithActivity(from, to), (r) => `${(r as string[]).length} owners`],
    ['usageByOwner()', () => reports.usageByOwner(), (r) => `${(r as Map<string, number>).size} owners`],
    ['usageOf(owner_000)', () => reports.usageOf('owner_000'), (r) => `${(Number(r) / 1e9).toFixed(2)} GB`],
    ['findRunningSteps(now - 10 min)', () => reports.findRunningSteps(new Date(END - 10 * 60_000), 100), (r) => `${(r as unknown[]).length} steps`],
  ];
  for (const [name, run, describe] of cases) {
    const result = await run(); // warm
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      t = performance.now();
      await run();
      runs.push(performance.now() - t);
    }
    captured.length = 0;
    await run();
    const plans = await Promise.all(captured.map((q) => engine.explain(q)));
    console.log(`${name.padEnd(32)} ${median(runs).toFixed(1).padStart(8)} ms   (${describe(result)})`);
    for (const p of plans) console.log(`    plan: ${p}`);
  }
}

function describeSummary(r: unknown): string {
  const s = r as { uploaded: number; completed: number; failed: number; processingMs: number[] };
  return `${s.uploaded} up, ${s.completed} done, ${s.failed} failed, ${s.processingMs.length} times`;
}

async function main(): Promise<void> {
  const files = makeFiles(FILES);
  const captured: CompiledQuery[] = [];
  const log = (e: LogEvent) => {
    if (e.level === 'query') captured.push(e.query);
  };

  const dir = await mkdtemp(join(tmpdir(), 'nightshift-bench-'));
  try {
    const sqlite = await sqliteEngine(join(dir, 'bench.db'), log);
    await bench(sqlite, files, captured);
    await sqlite.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const pgUrl = process.env.BENCH_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL;
  if (!pgUrl) {
    console.log('\n== postgres: skipped (set BENCH_POSTGRES_URL or TEST_POSTGRES_URL)');
    return;
  }
  const name = `ns_bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  try {
    const url = new URL(pgUrl);
    url.pathname = `/${name}`;
    const postgres = await postgresEngine(url.toString(), log);
    await bench(postgres, files, captured);
    await postgres.close();
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

await main();
