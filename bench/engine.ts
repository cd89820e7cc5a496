// Engine figures on SQLite and PostgreSQL (not a test): enqueue→start latency, no-op
// throughput, time to first job with a backlog — with nightshift's recommended settings and with
// Agenda's defaults on the official/plain backend, in the same process, with ratios. Each figure
// is the median of BENCH_ROUNDS rounds (default 3): a shared machine is noisy.
//   node .build-engine/bench/engine.js [sqlite|postgres]   (PG: TEST_POSTGRES_URL or the local server)
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import { PostgresBackend } from '@agendajs/postgres-backend';
import { Agenda, type AgendaBackend, type AgendaOptions, type NotificationChannel } from 'agenda';
import pg from 'pg';

import { createEngineBackend } from '../src/engine/backends.js';
import { SqliteBackend } from '../src/engine/sqlite/backend.js';
import { createLogger } from '../src/logger.js';
import { schemaRace, uniqueRace } from './engine-guards.js';

/** What nightshift recommends (and the engine wrapper sets): see the report printed at the end. */
const RECOMMENDED = { lockLimit: 40, concurrency: 20, processEvery: 5000 } as const;
const BACKLOG = 5000;
const LATENCY_JOBS = 200;
const LATENCY_GAP_MS = 20;
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

interface Profile {
  readonly label: string;
  make(): Promise<{ backend: AgendaBackend; notificationChannel?: NotificationChannel | undefined; options: Partial<AgendaOptions> }>;
}

interface Figures {
  p50: number;
  p95: number;
  p99: number;
  throughput: number;
  firstJobMs: number;
}

const log = createLogger('silent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function open(profile: Profile): Promise<Agenda> {
  const { backend, notificationChannel, options } = await profile.make();
  const agenda = new Agenda({ backend, ...(notificationChannel ? { notificationChannel } : {}), ...options });
  await agenda.ready;
  return agenda;
}

async function close(agenda: Agenda): Promise<void> {
  if (agenda.isActiveJobProcessor()) await agenda.stop();
  else await (agenda as unknown as { backend: AgendaBackend }).backend.disconnect();
}

/** Idle worker; LATENCY_JOBS jobs saved LATENCY_GAP_MS apart in the same process; save call → handler start. */
async function latency(profile: Profile, name: string): Promise<number[]> {
  const agenda = await open(profile);
  const samples: number[] = [];
  agenda.define(name, async (job) => void samples.push(performance.now() - (job.attrs.data as { t: number }).t), { concurrency: RECOMMENDED.concurrency });
  await agenda.start();
  await sleep(200);
  for (let i = 0; i < LATENCY_JOBS; i++) {
    await agenda.now(name, { t: performance.now() });
    await sleep(LATENCY_GAP_MS);
  }
  const deadline = Date.now() + 15_000;
  while (samples.length < LATENCY_JOBS && Date.now() < deadline) await sleep(20);
  await close(agenda);
  return samples.sort((a, b) => a - b);
}

/** BACKLOG no-op jobs queued before the worker starts: time to the first start, and jobs/s overall. */
async function backlog(profile: Profile, name: string): Promise<{ firstJobMs: number; throughput: number }> {
  const producer = await open(profile);
  const past = new Date(Date.now() - 1000);
  for (let i = 0; i < BACKLOG; i += 250) {
    await Promise.all(
      Array.from({ length: Math.min(250, BACKLOG - i) }, () =>
        producer.db.saveJob({ name, data: {}, priority: 0, type: 'normal', nextRunAt: past }, undefined),
      ),
    );
  }
  await close(producer);
  const worker = await open(profile);
  let first = 0;
  let done = 0;
  worker.define(
    name,
    async () => {
      first ||= performance.now();
      done += 1;
    },
    { concurrency: RECOMMENDED.concurrency },
  );
  const start = performance.now();
  await worker.start();
  const deadline = Date.now() + 120_000;
  while (done < BACKLOG && Date.now() < deadline) await sleep(5);
  const end = performance.now();
  await close(worker);
  return { firstJobMs: first - start, throughput: (done * 1000) / (end - start) };
}

/** One round on a fresh database (`renew` switches the profile to one). */
async function measure(profile: Profile, renew: () => Promise<void>): Promise<Figures> {
  await renew();
  const id = Math.random().toString(36).slice(2, 8);
  const lat = await latency(profile, `lat-${id}`);
  const { firstJobMs, throughput } = await backlog(profile, `backlog-${id}`);
  return { p50: pct(lat, 50), p95: pct(lat, 95), p99: pct(lat, 99), throughput, firstJobMs };
}

/** Rounds alternate between the profiles; each figure is the median over rounds. */
async function compare(...profiles: [Profile, () => Promise<void>][]): Promise<Figures[]> {
  const rounds: Figures[][] = profiles.map(() => []);
  for (let i = 0; i < ROUNDS; i++) {
    for (const [j, p] of profiles.entries()) rounds[j]!.push(await measure(...p));
  }
  return rounds.map((rs) => {
    const m = (k: keyof Figures) => rs.map((r) => r[k]).sort((x, y) => x - y)[Math.floor(rs.length / 2)]!;
    return { p50: m('p50'), p95: m('p95'), p99: m('p99'), throughput: m('throughput'), firstJobMs: m('firstJobMs') };
  });
}

function print(db: string, ours: Figures, base: Figures, targets: { p99: number; throughput: number }, extra: [string, Figures][] = []): void {
  const f = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  const row = (label: string, x: Figures) =>
    `  ${label.padEnd(28)} ${f(x.p50).padStart(7)} ${f(x.p95).padStart(7)} ${f(x.p99).padStart(7)} ${f(x.throughput).padStart(9)} ${f(x.firstJobMs).padStart(10)}`;
  console.log(`\n${db}`);
  console.log(
    `  ${''.padEnd(28)} ${'p50 ms'.padStart(7)} ${'p95 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'jobs/s'.padStart(9)} ${'1st job ms'.padStart(10)}`,
  );
  console.log(row('nightshift (recommended)', ours));
  for (const [label, x] of extra) console.log(row(label, x));
  console.log(row('Agenda defaults (baseline)', base));
  console.log(
    `  ${'ratio (baseline / ours)'.padEnd(28)} ${(base.p50 / ours.p50).toFixed(1).padStart(6)}x ${(base.p95 / ours.p95).toFixed(1).padStart(6)}x ${(base.p99 / ours.p99).toFixed(1).padStart(6)}x ${(ours.throughput / base.throughput).toFixed(1).padStart(8)}x ${(base.firstJobMs / ours.firstJobMs).toFixed(1).padStart(9)}x`,
  );
  console.log(
    `  targets: p99 ≤ ${targets.p99} ms → ${ours.p99 <= targets.p99 ? 'met' : 'MISSED'}; ≥ ${targets.throughput} jobs/s → ${ours.throughput >= targets.throughput ? 'met' : 'MISSED'}`,
  );
}

const recommendedOptions: Partial<AgendaOptions> = { defaultLockLimit: RECOMMENDED.lockLimit, processEvery: RECOMMENDED.processEvery };

async function benchSqlite(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nightshift-bench-'));
  try {
    let n = 0;
    let oursPath = '';
    let basePath = '';
    const ours: Profile = {
      label: 'ours',
      make: async () => ({ ...(await createEngineBackend({ kind: 'sqlite', path: oursPath }, { log })), options: recommendedOptions }),
    };
    const base: Profile = { label: 'defaults', make: async () => ({ backend: new SqliteBackend({ path: basePath }), options: {} }) };
    const [o, b] = (await compare(
      [ours, async () => void (oursPath = join(dir, `ours-${n++}.db`))],
      [base, async () => void (basePath = join(dir, `base-${n++}.db`))],
    )) as [Figures, Figures];
    print('SQLite (our backend; baseline = the same backend without the refill wrapper, Agenda defaults)', o, b, { p99: 10, throughput: 2000 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function benchPostgres(): Promise<void> {
  const adminUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const admin = new pg.Client({ connectionString: adminUrl });
  try {
    await admin.connect();
  } catch (err) {
    console.log(`\nPostgreSQL: skipped (${(err as Error).message})`);
    return;
  }
  const names: string[] = [];
  const fresh = async () => {
    const dbName = `ns_bench_${Math.random().toString(36).slice(2, 10)}`;
    await admin.query(`CREATE DATABASE ${dbName}`);
    names.push(dbName);
    const url = new URL(adminUrl);
    url.pathname = `/${dbName}`;
    return url.toString();
  };
  try {
    let oursUrl = '';
    let asyncUrl = '';
    let baseUrl = '';
    const ours: Profile = {
      label: 'ours',
      make: async () => ({ ...(await createEngineBackend({ kind: 'postgres', url: oursUrl }, { log })), options: recommendedOptions }),
    };
    const asyncSaves: Profile = {
      label: 'ours, async saves',
      make: async () => ({
        ...(await createEngineBackend({ kind: 'postgres', url: asyncUrl }, { log, pgAsyncSaveCommits: true })),
        options: recommendedOptions,
      }),
    };
    const base: Profile = { label: 'defaults', make: async () => ({ backend: new PostgresBackend({ connectionString: baseUrl }), options: {} }) };
    const [o, a, b] = (await compare(
      [ours, async () => void (oursUrl = await fresh())],
      [asyncSaves, async () => void (asyncUrl = await fresh())],
      [base, async () => void (baseUrl = await fresh())],
    )) as [Figures, Figures, Figures];
    print('PostgreSQL (ours: guarded official backend; baseline: official PostgresBackend, Agenda defaults)', o, b, { p99: 10, throughput: 1000 }, [
      ['  + pgAsyncSaveCommits', a],
    ]);
    console.log('\nPostgreSQL guards (official backend vs ours):');
    for (const line of [...(await uniqueRace(fresh, log)), ...(await schemaRace(fresh, log))]) console.log(line);
  } finally {
    for (const n of names) await admin.query(`DROP DATABASE IF EXISTS ${n} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

console.log(
  `engine bench: ${LATENCY_JOBS} jobs ${LATENCY_GAP_MS} ms apart (idle worker); ${BACKLOG} no-op jobs queued, concurrency ${RECOMMENDED.concurrency}; recommended = defaultLockLimit ${RECOMMENDED.lockLimit}, processEvery ${RECOMMENDED.processEvery} ms; median of ${ROUNDS} rounds`,
);
console.log(
  `machine: ${cpus().length} CPUs, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} at start`,
);
const only = process.argv[2];
if (!only || only === 'sqlite') await benchSqlite();
if (!only || only === 'postgres') await benchPostgres();
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} at end`,
);
// Agenda leaves a timer of lockLifetime / 2 per job run; don't wait for it.
process.exit(0);
