import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';

import { errorCode, ErrorCodes, isPermanent, NightshiftError } from '../../src/errors.js';
import { createPool, type WorkerPool } from '../../src/pool/pool.js';
import { Slots } from '../../src/pool/slots.js';
import type { AtomicsWaitAsync } from '../../src/pool/worker.js';
import { cpuShare } from '../helpers/cpu.js';
import type { ProbeTask } from './workers/probe.js';

const filename = new URL('./workers/probe.js', import.meta.url);
const timeout = (ms: number) => {
  const c = new AbortController();
  const t = setTimeout(() => c.abort(new NightshiftError(ErrorCodes.STEP_TIMEOUT, `probe took longer than its time limit of ${ms} ms`)), ms);
  t.unref();
  return c.signal;
};
describe('worker pool', () => {
  const pools: Array<WorkerPool<ProbeTask, number>> = [];
  const open = (o: Partial<Parameters<typeof createPool>[0]> = {}) => {
    const p = createPool<ProbeTask, number>({ name: 'probe', filename, size: 1, idleTimeoutMs: 60_000, ...o });
    pools.push(p);
    return p;
  };
  after(async () => {
    await Promise.all(pools.map((p) => p.close()));
    for (const p of pools) assert.equal(p.stats().workersAlive, 0, `${p.name} left a worker running`);
  });

  test('runs tasks and carries catalog errors across the thread, permanent ones too', async () => {
    const pool = open();
    assert.equal(await pool.run({ kind: 'echo', value: 42 }), 42);
    await assert.rejects(pool.run({ kind: 'permanent' }), (err) => errorCode(err) === ErrorCodes.CORRUPT_IMAGE && isPermanent(err));
  });

  test('the hard limit terminates the worker: the CPU comes back and the next task runs on a new worker', async () => {
    const pool = open();
    await pool.run({ kind: 'echo' });
    const started = performance.now();
    await assert.rejects(
      pool.run({ kind: 'spin' }, { signal: timeout(300) }),
      (err) => errorCode(err) === ErrorCodes.STEP_TIMEOUT && /300 ms/.test((err as Error).message),
    );
    assert.ok(performance.now() - started < 1_500, 'rejected at the limit');
    const share = await cpuShare(500);
    assert.ok(share < 0.5, `CPU still busy after termination: ${share.toFixed(2)} of a core`);
    assert.equal(await pool.run({ kind: 'echo', value: 7 }), 7);
    const stats = pool.stats();
    assert.equal(stats.terminated, 1);
    assert.equal(stats.workersStarted, 2, 'the task after the limit ran on a fresh worker');
  });

  test('a task waiting for a busy or starting worker does not spend its limit waiting', async () => {
    const pool = open();
    // The engine's clock, as src/engine/engine.ts keeps it: a limit that hold() stops and restart() starts again.
    const limited = (ms: number) => {
      const c = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const clock = {
        hold: () => clearTimeout(timer),
        restart() {
          clearTimeout(timer);
          timer = setTimeout(() => c.abort(new NightshiftError(ErrorCodes.STEP_TIMEOUT, `probe took longer than its time limit of ${ms} ms`)), ms);
        },
      };
      clock.restart();
      return { signal: c.signal, clock, done: () => clearTimeout(timer) };
    };
    // A hostile task holds the only worker for 1.2 s; the one behind it has 400 ms of its own.
    const hostile = pool.run({ kind: 'spin' }, { signal: timeout(1_200) });
    const behind = limited(400);
    const queued = pool.run({ kind: 'echo', value: 5 }, behind);
    await assert.rejects(hostile, (err) => errorCode(err) === ErrorCodes.STEP_TIMEOUT);
    assert.equal(await queued, 5, 'the queued task ran to completion on the fresh worker');
    behind.done();
    // Its limit still applies to its own work.
    const spinning = limited(300);
    const t0 = performance.now();
    await assert.rejects(pool.run({ kind: 'spin' }, spinning), (err) => errorCode(err) === ErrorCodes.STEP_TIMEOUT);
    assert.ok(performance.now() - t0 < 1_500, 'the held clock restarted when the work began');
  });

  test('pool workers run at a lower CPU priority than the main thread', { skip: process.platform !== 'linux' && 'Linux only' }, async () => {
    const pool = open();
    await pool.run({ kind: 'echo' });
    // Field 19 of /proc/<pid>/task/<tid>/stat is the thread's nice value (after the parenthesised name).
    const nice = (tid: string) => Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ')[16]);
    const values = readdirSync('/proc/self/task').map(nice);
    assert.equal(nice(String(process.pid)), 0, 'the main thread keeps its priority');
    assert.ok(values.includes(19), `a worker thread at nice 19: ${values.join(',')}`);
  });

  test('the soft limit aborts the worker’s own signal, and the worker is kept', async () => {
    const pool = open();
    await pool.run({ kind: 'echo' });
    const soft = new AbortController();
    setTimeout(() => soft.abort(), 100).unref();
    await assert.rejects(pool.run({ kind: 'soft' }, { softSignal: soft.signal }), /soft limit reached/);
    assert.equal(await pool.run({ kind: 'echo', value: 1 }), 1);
    assert.equal(pool.stats().workersStarted, 1);
  });

  test('a worker past its heap cap fails the task with STEP_OUT_OF_MEMORY, naming the knob; the pool goes on', async () => {
    const pool = open({ maxHeapMb: 32 });
    await assert.rejects(
      pool.run({ kind: 'alloc' }),
      (err) => errorCode(err) === ErrorCodes.STEP_OUT_OF_MEMORY && /JOB_PROBE_MAX_HEAP_MB/.test((err as Error).message) && /32 MB/.test((err as Error).message),
    );
    assert.equal(await pool.run({ kind: 'echo', value: 3 }), 3);
    assert.equal(pool.stats().outOfMemory, 1);
  });

  test('a worker that outgrows its heap cap before it is ready fails the tasks waiting for it, and the process lives', async () => {
    // tinypool reports such a worker on the pool, not to a task, and starts none for what waits.
    const pool = open({ size: 2, maxHeapMb: 32, workerData: { hoardAtLoad: true } });
    const hard = timeout(60_000);
    const results = await Promise.allSettled([1, 2, 3].map((value) => pool.run({ kind: 'echo', value }, { signal: hard })));
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.equal(errorCode(r.reason), ErrorCodes.STEP_OUT_OF_MEMORY, String(r.reason));
      assert.match(String((r.reason as Error).message), /JOB_PROBE_MAX_HEAP_MB/);
    }
    assert.ok(!hard.aborted, 'failed at once, not at the hard limit');
    assert.ok(pool.stats().outOfMemory >= 1, JSON.stringify(pool.stats()));
  });

  test('closing a pool whose worker fails as it is stopped ends, with no stray exception', async () => {
    // Seen in CI: a worker loading past its heap cap died of it while close() stopped it, and close() never ended.
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const pool = open({ workerData: { strayAtLoad: flag } });
    const task = pool.run({ kind: 'echo' }).catch((err: unknown) => err);
    const loaded = (Atomics as unknown as AtomicsWaitAsync).waitAsync(flag, 0, 0, 10_000);
    if (loaded.async) await loaded.value;
    assert.equal(Atomics.load(flag, 0), 1, 'the worker loaded');
    // From here this thread does not yield until close() has begun, so the worker's message waits undelivered.
    Atomics.store(flag, 0, 2);
    Atomics.notify(flag, 0);
    Atomics.wait(flag, 0, 2, 10_000);
    assert.equal(Atomics.load(flag, 0), 3, 'the worker posted');
    const closed = pool.close().then(() => 'closed');
    const late = new Promise((r) => setTimeout(() => r('still closing after 5 s'), 5_000).unref());
    assert.equal(await Promise.race([closed, late]), 'closed');
    assert.ok((await task) instanceof Error, 'the task rejected');
    assert.equal(pool.stats().workersAlive, 0);
  });

  test('workers are recycled after N tasks and no task is lost', async () => {
    const pool = open({ size: 2, maxTasksPerWorker: 3 });
    const values = Array.from({ length: 24 }, (_, i) => i);
    const results = await Promise.all(values.map((value) => pool.run({ kind: 'echo', value })));
    assert.deepEqual(results, values);
    const stats = pool.stats();
    assert.ok(stats.recycles >= 3, `recycled ${stats.recycles} times`);
    assert.ok(stats.workersStarted >= 6, `${stats.workersStarted} workers for 24 tasks at 3 per worker`);
    assert.equal(stats.completed, 24);
  });

  test('pools sharing machine slots compute one task per slot; a spare core is granted when nobody waits for it, and a declined one goes back', async () => {
    const machine = new Slots(2);
    const a = open({ size: 2, machine });
    const b = open({ size: 2, machine });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    // An idle machine has the spare core at once.
    assert.equal(await a.run({ kind: 'spare', value: 2_000 }, { spareCore: true }), 1);
    // b holds both slots: a's task waits for one, then for a spare until b's second task ends.
    const soft = [new AbortController(), new AbortController()];
    const holds = soft.map((c) => b.run({ kind: 'soft' }, { softSignal: c.signal }).catch(() => 'stopped'));
    await sleep(300);
    const wanting = a.run({ kind: 'spare', value: 5_000 }, { spareCore: true });
    await sleep(200);
    soft[0]!.abort();
    await sleep(300);
    const t0 = performance.now();
    soft[1]!.abort();
    assert.equal(await wanting, 1, 'the spare core came when b gave its second slot back');
    assert.ok(performance.now() - t0 < 1_500, 'granted as soon as the slot was free');
    await Promise.all(holds);
    // A spare the worker declines (value 0: it does not wait) is not kept.
    const c = new AbortController();
    const hold = b.run({ kind: 'soft' }, { softSignal: c.signal }).catch(() => 'stopped');
    await sleep(300);
    assert.equal(await a.run({ kind: 'spare', value: 0 }, { spareCore: true }), 0);
    c.abort();
    await hold;
    assert.ok(machine.tryAcquire() && machine.tryAcquire(), 'every slot came back');
    machine.release();
    machine.release();
  });
});
