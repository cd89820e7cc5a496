import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import { computeJobState, constant, type JobParameters } from 'agenda';

import { bulkRepository } from '../../src/engine/bulk.js';
import { randomName } from '../helpers/env.js';
import { type Child, forkChild } from './child-protocol.js';
import { AgendaPool, type EngineTarget, RECOMMENDED, sleep, waitUntil } from './harness.js';

/**
 * The engine conformance suite: the behaviour nightshift relies on from an Agenda backend,
 * run against every reachable one. Each test uses its own job names; separate Agenda
 * instances have separate connections, and the concurrency tests use separate processes.
 */
export function runEngineConformance(name: string, setup: () => Promise<EngineTarget>, skip: string | false = false): void {
  describe(`engine conformance: ${name}`, { skip }, () => {
    let target: EngineTarget;
    const pool = new AgendaPool(() => target);
    const children: Child[] = [];
    before(async () => {
      target = await setup();
    });
    afterEach(async () => {
      for (const c of children.splice(0)) c.kill();
      await pool.closeAll();
    });
    after(async () => {
      await target?.teardown();
    });
    const child = (args: Omit<Parameters<typeof forkChild>[0], 'database' | 'redisUrl'>) => {
      const c = forkChild({ ...args, database: target.database, redisUrl: target.redisUrl });
      children.push(c);
      return c;
    };

    it('starts on a fresh database from several connections at once', async () => {
      // Runs first: the schema does not exist yet. (Upstream PostgreSQL fails this with
      // duplicate key "pg_type_typname_nsp_index".)
      const agendas = await Promise.all([0, 1, 2, 3].map(() => pool.make()));
      await Promise.all(agendas.map((a) => a.queryJobs({ limit: 1 })));
    });

    it('saves and reads back every field', async () => {
      const agenda = await pool.make();
      const jobName = randomName('fields');
      const data = { text: 'héllo ✓ "quoted"', n: 42, f: 1.5, ok: true, nothing: null, list: [1, 'two', { three: 3 }], deep: { a: { b: 'c' } } };
      const nextRunAt = new Date(Date.now() + 3_600_000);
      const startDate = new Date(Date.now() + 60_000);
      const endDate = new Date(Date.now() + 86_400_000 * 30);
      const job = agenda.create(jobName, data).priority('high').schedule(nextRunAt);
      Object.assign(job.attrs, { repeatInterval: '5 minutes', repeatTimezone: 'Europe/Paris', startDate, endDate, skipDays: [0, 6], fork: true });
      await job.save();
      const id = job.attrs._id!;
      const saved = await agenda.db.getJobById(id);
      assert.ok(saved);
      assert.equal(saved.name, jobName);
      assert.equal(saved.priority, 10);
      assert.equal(saved.type, 'normal');
      assert.deepEqual(saved.data, data);
      assert.equal(saved.repeatInterval, '5 minutes');
      assert.equal(saved.repeatTimezone, 'Europe/Paris');
      assert.deepEqual(saved.skipDays, [0, 6]);
      assert.equal(saved.fork, true);
      assert.equal(saved.disabled, false);
      for (const [field, expected] of [
        ['nextRunAt', nextRunAt],
        ['startDate', startDate],
        ['endDate', endDate],
      ] as const) {
        assert.ok(saved[field] instanceof Date, `${field} is a Date`);
        assert.equal(saved[field].getTime(), expected.getTime(), field);
      }

      const t = Date.now();
      const state: JobParameters = {
        ...saved,
        lockedAt: new Date(t - 1000),
        lastRunAt: new Date(t - 900),
        lastFinishedAt: new Date(t - 800),
        failedAt: new Date(t - 700),
        failCount: 2,
        failReason: 'boom',
        progress: 42.5,
      };
      await agenda.db.saveJobState(state, { lastModifiedBy: 'conformance' });
      const after = (await agenda.db.getJobById(id))!;
      for (const field of ['lockedAt', 'lastRunAt', 'lastFinishedAt', 'failedAt'] as const) {
        assert.ok(after[field] instanceof Date, `${field} is a Date`);
        assert.equal(after[field].getTime(), state[field]!.getTime(), field);
      }
      assert.equal(after.failCount, 2);
      assert.equal(after.failReason, 'boom');
      assert.equal(after.progress, 42.5);
      assert.equal(after.lastModifiedBy, 'conformance');

      const at = agenda.create(randomName('repeat-at'), undefined).repeatAt('3:30pm');
      await at.save();
      assert.equal((await agenda.db.getJobById(at.attrs._id!))?.repeatAt, '3:30pm');
    });

    it('unique saves update in place, insertOnly keeps the first, debounce moves nextRunAt, every() upserts', async () => {
      const agenda = await pool.make();
      const jobName = randomName('unique');
      const count = async (n: string) => (await agenda.queryJobs({ name: n })).total;

      await agenda.create(jobName, { k: 1, v: 'first' }).unique({ 'data.k': 1 }).save();
      await agenda.create(jobName, { k: 1, v: 'second' }).unique({ 'data.k': 1 }).save();
      await agenda.create(jobName, { k: 2, v: 'other key' }).unique({ 'data.k': 2 }).save();
      assert.equal(await count(jobName), 2);
      assert.deepEqual(
        (await agenda.queryJobs({ name: jobName, data: { k: 1 } })).jobs.map((j) => j.data),
        [{ k: 1, v: 'second' }],
      );

      await agenda.create(jobName, { k: 1, v: 'ignored' }).unique({ 'data.k': 1 }, { insertOnly: true }).save();
      assert.deepEqual(
        (await agenda.queryJobs({ name: jobName, data: { k: 1 } })).jobs.map((j) => j.data),
        [{ k: 1, v: 'second' }],
      );

      const debounced = randomName('debounce');
      const first = await agenda.nowDebounced(debounced, { n: 1, key: 'x' }, { 'data.key': 'x' }, 500);
      await sleep(50);
      const before = Date.now();
      const second = await agenda.nowDebounced(debounced, { n: 2, key: 'x' }, { 'data.key': 'x' }, 500);
      assert.equal(await count(debounced), 1);
      assert.equal(String(second.attrs._id), String((await agenda.queryJobs({ name: debounced })).jobs[0]!._id));
      const row = (await agenda.queryJobs({ name: debounced })).jobs[0]!;
      assert.ok(row.nextRunAt!.getTime() >= before + 490, 'trailing debounce pushed nextRunAt');
      assert.ok(row.debounceStartedAt && row.debounceStartedAt.getTime() <= before, 'debounce window started at the first save');
      assert.ok(first.attrs.nextRunAt!.getTime() < row.nextRunAt!.getTime());

      const every = randomName('every');
      const a = await agenda.every('1 hour', every, { v: 1 });
      const b = await agenda.every('1 hour', every, { v: 2 });
      assert.equal(String(a.attrs._id), String(b.attrs._id));
      const rows = (await agenda.queryJobs({ name: every })).jobs;
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.type, 'single');
      assert.deepEqual(rows[0]!.data, { v: 2 });
      assert.equal(rows[0]!.state, 'repeating');
    });

    it('locks each job once when two processes compete', async () => {
      const jobName = randomName('contend');
      const producer = await pool.make();
      const total = 120;
      await Promise.all(Array.from({ length: total }, (_, i) => producer.now(jobName, { i })));
      const workers = [0, 1].map(() => child({ role: 'work', jobName, concurrency: 5, lockLimit: 5, jobMs: 5 }));
      await Promise.all(workers.map((w) => w.waitFor((m) => 'ready' in m)));
      for (const w of workers) w.process.send('go');
      const ran = () => workers.flatMap((w) => w.messages.filter((m): m is { ran: string; at: number; pid: number } => 'ran' in m));
      await waitUntil(() => new Set(ran().map((r) => r.ran)).size >= total, 30_000, `${total} jobs to run`);
      await sleep(300);
      const runs = ran();
      const ids = new Set(runs.map((r) => r.ran));
      assert.equal(ids.size, total);
      assert.equal(runs.length, total, `no job ran twice (${runs.length - ids.size} duplicates)`);
      const byPid = new Map<number, number>();
      for (const r of runs) byPid.set(r.pid, (byPid.get(r.pid) ?? 0) + 1);
      assert.equal(byPid.size, 2, `both processes took jobs: ${JSON.stringify([...byPid])}`);
      for (const w of workers) w.process.send('stop');
      await Promise.all(workers.map((w) => w.exited));

      // The repository call itself, raced from two connections.
      const [x, y] = [await pool.make(), await pool.make()];
      const direct = randomName('direct');
      await Promise.all(
        Array.from({ length: 40 }, () =>
          x
            .create(direct, {})
            .schedule(new Date(Date.now() - 1000))
            .save(),
        ),
      );
      const claimed: string[] = [];
      const claim = async (a: typeof x) => {
        for (;;) {
          const job = await a.db.getNextJobToRun(direct, new Date(), new Date(Date.now() - 600_000), undefined, undefined);
          if (!job) return;
          claimed.push(String(job._id));
        }
      };
      await Promise.all([claim(x), claim(y), claim(x), claim(y)]);
      assert.equal(claimed.length, 40);
      assert.equal(new Set(claimed).size, 40);
    });

    it('keeps one row when two processes save the same unique and every() job at once', async () => {
      const jobName = randomName('race');
      const savers = [0, 1].map(() => child({ role: 'save', jobName, count: 25 }));
      await Promise.all(savers.map((s) => s.waitFor((m) => 'ready' in m)));
      for (const s of savers) s.process.send('go');
      await Promise.all(savers.map((s) => s.waitFor((m) => 'done' in m, 30_000)));
      const agenda = await pool.make();
      assert.equal((await agenda.queryJobs({ name: jobName })).total, 1, 'one unique row');
      assert.equal((await agenda.queryJobs({ name: `${jobName}-every` })).total, 1, 'one every() row');
    });

    it('retries with backoff, then succeeds or gives up', async () => {
      const agenda = await pool.make();
      const flaky = randomName('flaky');
      const doomed = randomName('doomed');
      const attempts: number[] = [];
      let doomedRuns = 0;
      agenda.define(
        flaky,
        async () => {
          attempts.push(Date.now());
          if (attempts.length < 3) throw new Error('flaky');
        },
        { backoff: constant({ delay: 150, maxRetries: 3 }) },
      );
      agenda.define(
        doomed,
        async () => {
          doomedRuns += 1;
          throw new Error('always');
        },
        { backoff: constant({ delay: 50, maxRetries: 2 }) },
      );
      let exhausted = false;
      agenda.on(`retry exhausted:${doomed}`, () => (exhausted = true));
      await agenda.start();
      await agenda.now(flaky, {});
      await agenda.now(doomed, {});
      const stateOf = async (n: string) => (await agenda.queryJobs({ name: n })).jobs[0]?.state;
      await waitUntil(async () => attempts.length === 3 && (await stateOf(flaky)) === 'completed', 10_000, 'the third attempt to succeed');
      await waitUntil(async () => exhausted && (await stateOf(doomed)) === 'failed', 10_000, 'retries to run out');
      assert.ok(attempts[1]! - attempts[0]! >= 140 && attempts[2]! - attempts[1]! >= 140, `backoff respected: ${attempts.map((a) => a - attempts[0]!)}`);
      // Not the 5 s poll: the retry is woken when due (see RefillOnCompleteChannel.wakeAt).
      assert.ok(attempts[2]! - attempts[0]! < 2000, `retries ran when due: ${attempts.map((a) => a - attempts[0]!)}`);
      const done = (await agenda.queryJobs({ name: flaky })).jobs[0]!;
      assert.equal(done.state, 'completed');
      assert.equal(done.failCount, 0);
      const failed = (await agenda.queryJobs({ name: doomed })).jobs[0]!;
      assert.equal(doomedRuns, 3);
      assert.equal(failed.state, 'failed');
      assert.equal(failed.failCount, 3);
      assert.equal(failed.failReason, 'always');
    });

    it('does not run disabled jobs until they are enabled', async () => {
      const agenda = await pool.make({ processEvery: 200 });
      const jobName = randomName('pausable');
      let runs = 0;
      agenda.define(jobName, async () => {
        runs += 1;
      });
      await agenda
        .create(jobName, {})
        .schedule(new Date(Date.now() - 1000))
        .save();
      assert.equal(await agenda.disable({ name: jobName }), 1);
      await agenda.start();
      await sleep(600);
      assert.equal(runs, 0);
      assert.equal((await agenda.queryJobs({ name: jobName, state: 'paused' })).total, 1);
      assert.equal((await agenda.getJobsOverview()).find((o) => o.name === jobName)?.paused, 1);
      assert.equal(await agenda.enable({ name: jobName }), 1);
      await waitUntil(() => runs === 1, 5_000, 'the enabled job to run');
    });

    it('bulk-inserts many jobs in batches; a worker elsewhere starts them at once; disabled ones wait', async (t) => {
      const jobName = randomName('bulk');
      const worker = await pool.make({ processEvery: 20_000 });
      let ran = 0;
      let first = 0;
      worker.define(
        jobName,
        async () => {
          first ||= Date.now();
          ran += 1;
        },
        { concurrency: 20 },
      );
      await worker.start();
      await sleep(100);
      const producer = await pool.make();
      const bulk = bulkRepository(producer.db);
      const now = new Date();
      const jobs = Array.from({ length: 2000 }, (_, i) => ({ name: jobName, data: { i }, priority: 0, nextRunAt: now, disabled: false }));
      const started = Date.now();
      let inserted = 0;
      for (let i = 0; i < jobs.length; i += 1000) inserted += await bulk.insertJobs(jobs.slice(i, i + 1000), 'conformance');
      t.diagnostic(`2,000 jobs bulk-inserted in ${Date.now() - started} ms`);
      assert.equal(inserted, 2000);
      const stored = await producer.queryJobs({ name: jobName, limit: 1 });
      assert.equal(stored.total, 2000);
      assert.equal(stored.jobs[0]!.type, 'normal');
      assert.equal(typeof (stored.jobs[0]!.data as { i: number }).i, 'number');
      if (target.crossProcessWakeups) await waitUntil(() => first > 0, 5_000, 'the first bulk job to start without a poll');
      await waitUntil(() => ran === 2000 || !target.crossProcessWakeups, 60_000, 'every bulk job to run');

      const paused = randomName('bulk-paused');
      let pausedRuns = 0;
      worker.define(paused, async () => void (pausedRuns += 1));
      await bulk.insertJobs([{ name: paused, data: {}, priority: 0, nextRunAt: new Date(Date.now() - 1000), disabled: true }], null);
      assert.equal((await producer.queryJobs({ name: paused, state: 'paused' })).total, 1);
      await sleep(300);
      assert.equal(pausedRuns, 0);
    });

    it('records the locking worker in lastModifiedBy, so its locks can be released by name', async () => {
      const jobName = randomName('owned');
      const a = await pool.make({ name: 'worker-a' });
      await a
        .create(jobName, {})
        .schedule(new Date(Date.now() - 1000))
        .save();
      const locked = await a.db.getNextJobToRun(jobName, new Date(), new Date(Date.now() - 600_000), undefined, { lastModifiedBy: 'worker-a' });
      assert.ok(locked?.lockedAt);
      const row = (await a.queryJobs({ name: jobName, state: 'running' })).jobs[0]!;
      assert.equal(row.lastModifiedBy, 'worker-a');
      await a.db.unlockJobs([row._id]);
      assert.equal((await a.queryJobs({ name: jobName, state: 'running' })).total, 0);
    });

    it('purges jobs without a definition, and cancels by name', async () => {
      const agenda = await pool.make();
      const kept = randomName('kept');
      const orphan = randomName('orphan');
      agenda.define(kept, async () => undefined);
      await agenda.schedule('in 1 hour', kept, {});
      await agenda.schedule('in 1 hour', orphan, {});
      const before = (await agenda.queryJobs({})).total;
      const removed = await agenda.purge();
      assert.ok(removed >= 1);
      assert.equal((await agenda.queryJobs({ name: orphan })).total, 0);
      assert.equal((await agenda.queryJobs({ name: kept })).total, 1);
      assert.equal((await agenda.queryJobs({})).total, before - removed);
      assert.equal(await agenda.cancel({ name: kept }), 1);
      assert.equal(await agenda.cancel({}), 0, 'no criteria removes nothing');
    });

    it('answers the dashboard queries: states, names, search, data, sort, pages, overview', async () => {
      const agenda = await pool.make();
      const prefix = randomName('dash');
      const alpha = `${prefix}-alpha`;
      const beta = `${prefix}-beta`;
      const now = Date.now();
      const make = async (n: string, data: object, at: Date | null) => {
        const job = agenda.create(n, data);
        job.attrs.nextRunAt = at;
        await job.save();
        return (await agenda.db.getJobById(job.attrs._id!))!;
      };
      const queued = await make(alpha, { tag: 'x' }, new Date(now - 1000));
      const scheduled = await make(alpha, {}, new Date(now + 3_600_000));
      const running = await make(alpha, {}, new Date(now - 2000));
      await agenda.db.saveJobState({ ...running, lockedAt: new Date(now), lastRunAt: new Date(now) }, undefined);
      const completed = await make(beta, {}, null);
      await agenda.db.saveJobState({ ...completed, lastRunAt: new Date(now - 500), lastFinishedAt: new Date(now - 400) }, undefined);
      const failed = await make(beta, {}, null);
      await agenda.db.saveJobState(
        { ...failed, lastRunAt: new Date(now - 500), lastFinishedAt: new Date(now - 400), failedAt: new Date(now - 400), failCount: 1, failReason: 'x' },
        undefined,
      );
      const repeating = agenda.create(beta, {}).repeatEvery('1 hour');
      await repeating.save();
      const paused = await make(beta, {}, new Date(now + 60_000));
      await agenda.disable({ id: paused._id! });

      const names = [alpha, beta];
      const ids = (state: Parameters<typeof agenda.queryJobs>[0]) => agenda.queryJobs({ names, ...state }).then((r) => r.jobs.map((j) => String(j._id)).sort());
      const expectState = async (
        state: 'queued' | 'scheduled' | 'running' | 'completed' | 'failed' | 'repeating' | 'paused',
        expected: (JobParameters | undefined)[],
      ) => assert.deepEqual(await ids({ state }), expected.map((j) => String(j!._id)).sort(), state);
      await expectState('queued', [queued]);
      await expectState('scheduled', [scheduled, paused]);
      await expectState('running', [running]);
      await expectState('completed', [completed]);
      await expectState('failed', [failed]);
      await expectState('repeating', [repeating.attrs]);
      await expectState('paused', [paused]);

      const all = await agenda.queryJobs({ names });
      assert.equal(all.total, 7);
      for (const j of all.jobs) assert.equal(j.state, computeJobState(j), `state of ${j._id} matches agenda's computeJobState`);
      assert.equal((await agenda.queryJobs({ search: `${prefix}-al` })).total, 3);
      assert.deepEqual(await ids({ data: { tag: 'x' } }), [String(queued._id)]);
      assert.equal((await agenda.queryJobs({ names, includeDisabled: false })).total, 6);
      assert.deepEqual(await ids({ id: String(failed._id) }), [String(failed._id)]);

      const page = await agenda.queryJobs({ name: alpha, sort: { nextRunAt: 'asc' }, skip: 1, limit: 1 });
      assert.equal(page.total, 3);
      assert.deepEqual(
        page.jobs.map((j) => String(j._id)),
        [String(queued._id)],
        'second by nextRunAt: running(-2s), queued(-1s), scheduled',
      );

      const overview = await agenda.getJobsOverview();
      assert.deepEqual(
        overview.filter((o) => names.includes(o.name)).map((o) => ({ ...o })),
        [
          { name: alpha, total: 3, running: 1, scheduled: 1, queued: 1, completed: 0, failed: 0, repeating: 0, paused: 0 },
          { name: beta, total: 4, running: 0, scheduled: 1, queued: 0, completed: 1, failed: 1, repeating: 1, paused: 1 },
        ],
      );
      const distinct = await agenda.db.getDistinctJobNames();
      assert.ok(names.every((n) => distinct.includes(n)));
      assert.ok((await agenda.db.getQueueSize()) >= 2);
    });

    it('wakes a worker in another process when a job is saved there', async (t) => {
      if (!target.crossProcessWakeups) return t.skip('this backend has no cross-process wake-ups here (polling)');
      const jobName = randomName('wake');
      const worker = await pool.make({ processEvery: 20_000 });
      let startedAt = 0;
      let enqueuedAt = 0;
      worker.define(jobName, async (job) => {
        startedAt = Date.now();
        enqueuedAt = (job.attrs.data as { t: number }).t;
      });
      await worker.start();
      await sleep(100);
      const api = child({ role: 'enqueue', jobName });
      await api.waitFor((m) => 'ready' in m);
      api.process.send('go');
      await waitUntil(() => startedAt > 0, 5_000, 'the worker to start the job (no poll for 20 s)');
      t.diagnostic(`cross-process enqueue → start: ${startedAt - enqueuedAt} ms`);
      assert.ok(startedAt - enqueuedAt < 1000);
    });

    it(`starts the first of 5,000 queued jobs quickly (lockLimit ${RECOMMENDED.lockLimit})`, async (t) => {
      const producer = await pool.make();
      const jobName = randomName('backlog');
      const past = new Date(Date.now() - 1000);
      for (let i = 0; i < 5000; i += 250) {
        await Promise.all(
          Array.from({ length: 250 }, () => producer.db.saveJob({ name: jobName, data: {}, priority: 0, type: 'normal', nextRunAt: past }, undefined)),
        );
      }
      const worker = await pool.make({ defaultLockLimit: RECOMMENDED.lockLimit });
      let first = 0;
      let done = 0;
      worker.define(
        jobName,
        async () => {
          first ||= Date.now();
          done += 1;
        },
        { concurrency: RECOMMENDED.concurrency },
      );
      const start = Date.now();
      await worker.start();
      await waitUntil(() => first > 0, 10_000, 'the first job');
      const locked = (await worker.queryJobs({ name: jobName, state: 'running' })).total;
      await waitUntil(() => done >= 500, 20_000, '500 jobs to finish');
      const rate = Math.round((500 * 1000) / (Date.now() - first));
      t.diagnostic(`first job after ${first - start} ms; ${locked} locked at that point; ~${rate} jobs/s after`);
      assert.ok(first - start < 1500, `first job after ${first - start} ms`);
      assert.ok(locked <= RECOMMENDED.lockLimit + RECOMMENDED.concurrency, `${locked} jobs locked: the worker did not lock the backlog`);
    });
  });
}
