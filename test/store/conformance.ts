import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { errorCode, ErrorCodes } from '../../src/errors.js';
import type { FileRecord, FileStatus, NewFile, Store } from '../../src/store/types.js';
import { randomName } from '../helpers/env.js';
import { consoleConformance } from './conformance-console.js';
import { outboxConformance } from './conformance-outbox.js';
import { ownerConformance } from './conformance-owners.js';
import { reportConformance } from './conformance-reports.js';
import { settleConformance } from './conformance-settle.js';
import type { SeedFile } from './seed.js';

/** One database per run of the suite; `open()` gives a new, unmigrated store on it each call. */
export interface StoreHarness {
  open(): Promise<Store>;
  /** Write files with chosen times and outcomes straight into the (migrated) database. */
  seedFiles(files: readonly SeedFile[]): Promise<void>;
  cleanup(): Promise<void>;
}

export interface ConformanceOptions {
  /** A reason string skips the whole suite (e.g. no server to test against). */
  readonly skip?: string | false;
}

function newFile(over: Partial<NewFile> = {}): NewFile {
  const id = randomUUID();
  return { id, owner: 'alice', filename: 'photo.jpg', contentType: 'image/jpeg', size: 0, blobKey: `originals/${id}`, ...over };
}

/**
 * The behaviour every Store must have. Run from one test file per implementation, each against
 * its own fresh database.
 */
export function runStoreConformance(name: string, make: () => Promise<StoreHarness>, options: ConformanceOptions = {}): void {
  describe(`store conformance: ${name}`, { skip: options.skip ?? false }, () => {
    let harness: StoreHarness;
    let store: Store;
    let other: Store;
    let migrations: PromiseSettledResult<void>[];

    before(async () => {
      harness = await make();
      store = await harness.open();
      other = await harness.open();
      // Both stores migrate the empty database at once, as two processes starting together would.
      migrations = await Promise.allSettled([store.migrate(), other.migrate()]);
      if (migrations.some((m) => m.status === 'rejected')) await store.migrate();
    });

    after(async () => {
      await store?.close();
      await other?.close();
      await harness?.cleanup();
    });

    /** A file in `processing` with the given steps. */
    async function processingFile(steps: Array<{ name: 'analyze' | 'thumbnail' | 'ocr'; status: 'pending' | 'skipped' }>, over: Partial<NewFile> = {}) {
      const f = await store.createFile(newFile(over));
      assert.equal(await store.startProcessing(f.id, 'image/png', steps), true);
      return f;
    }

    test('concurrent migrate() from two stores on one database both succeed, and migrate() is idempotent', async () => {
      for (const m of migrations) assert.equal(m.status, 'fulfilled', m.status === 'rejected' ? String(m.reason) : '');
      await store.migrate();
      await other.migrate();
      await store.ping();
      await other.ping();
    });

    test('createFile / getFile round-trip every field, with Date objects', async () => {
      const input = newFile({ owner: 'bob', filename: 'scan – ü.pdf', contentType: 'application/pdf', size: 1234 });
      const before = Date.now();
      const created = await store.createFile(input);
      const got = await other.getFile(input.id);
      assert.ok(got);
      assert.deepEqual(got, created);
      assert.equal(got.id, input.id);
      assert.equal(got.owner, 'bob');
      assert.equal(got.filename, 'scan – ü.pdf');
      assert.equal(got.contentType, 'application/pdf');
      assert.equal(got.size, 1234);
      assert.equal(got.blobKey, input.blobKey);
      assert.equal(got.status, 'uploaded');
      assert.equal(got.error, null);
      assert.ok(got.uploadedAt instanceof Date);
      assert.ok(got.uploadedAt.getTime() >= before - 5 && got.uploadedAt.getTime() <= Date.now() + 5);
      assert.equal(got.startedAt, null);
      assert.equal(got.completedAt, null);
      assert.deepEqual(got.steps, []);

      const anonymous = await store.createFile(newFile({ owner: null }));
      assert.equal((await store.getFile(anonymous.id))?.owner, null);
      assert.equal(await store.getFile(randomUUID()), null);
    });

    test('sizes beyond 32 bits round-trip', async () => {
      const f = await store.createFile(newFile({ size: 5_000_000_000 }));
      assert.equal((await store.getFile(f.id))?.size, 5_000_000_000);
    });

    test('startProcessing only from uploaded; steps come back in STEP_NAMES order', async () => {
      const f = await store.createFile(newFile());
      const ok = await store.startProcessing(f.id, 'image/png', [
        { name: 'ocr', status: 'skipped' },
        { name: 'thumbnail', status: 'pending' },
        { name: 'analyze', status: 'pending' },
      ]);
      assert.equal(ok, true);
      const got = await store.getFile(f.id);
      assert.ok(got);
      assert.equal(got.status, 'processing');
      assert.equal(got.contentType, 'image/png');
      assert.ok(got.startedAt instanceof Date);
      assert.deepEqual(
        got.steps.map((s) => [s.name, s.status, s.attempts]),
        [
          ['analyze', 'pending', 0],
          ['thumbnail', 'pending', 0],
          ['ocr', 'skipped', 0],
        ],
      );
      for (const s of got.steps) {
        assert.deepEqual([s.durationMs, s.error, s.startedAt, s.finishedAt, s.heartbeatAt, s.result], [null, null, null, null, null, null]);
      }
      assert.equal(await store.startProcessing(f.id, 'image/gif', [{ name: 'analyze', status: 'pending' }]), false);
      assert.equal((await store.getFile(f.id))?.contentType, 'image/png');
      assert.equal(await store.startProcessing(randomUUID(), 'image/png', []), false);
    });

    test('startProcessing raced by several callers lets exactly one through', async () => {
      const f = await store.createFile(newFile());
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => (i % 2 ? other : store).startProcessing(f.id, 'image/png', [{ name: 'analyze', status: 'pending' }])),
      );
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal((await store.getFile(f.id))?.steps.length, 1);
    });

    test('resetForReprocess is refused while processing, and clears the run otherwise', async () => {
      const f = await processingFile([
        { name: 'analyze', status: 'pending' },
        { name: 'ocr', status: 'pending' },
      ]);
      assert.equal(await store.resetForReprocess(f.id), false);
      assert.equal((await store.getFile(f.id))?.status, 'processing');

      await store.startStep(f.id, 'analyze');
      await store.finishStep(f.id, 'analyze', { status: 'completed', durationMs: 10, result: { labels: ['cat'] } });
      await store.startStep(f.id, 'ocr');
      await store.finishStep(f.id, 'ocr', { status: 'failed', durationMs: 5, error: 'no text' });
      assert.equal((await store.finalizeFile(f.id))?.status, 'failed');

      assert.equal(await store.resetForReprocess(f.id), true);
      const reset = await store.getFile(f.id);
      assert.ok(reset);
      assert.equal(reset.status, 'uploaded');
      assert.equal(reset.error, null);
      assert.equal(reset.startedAt, null);
      assert.equal(reset.completedAt, null);
      assert.deepEqual(reset.steps, []);
      // A reset file is queued: resetting it again is refused (it would start a second run).
      assert.equal(await store.resetForReprocess(f.id), false);
      assert.equal(await store.startProcessing(f.id, 'image/png', [{ name: 'analyze', status: 'pending' }]), true);
      assert.deepEqual(
        (await store.getFile(f.id))?.steps.map((s) => [s.name, s.attempts]),
        [['analyze', 0]],
      );
      assert.equal(await store.resetForReprocess(randomUUID()), false);
    });

    test('of concurrent resetForReprocess calls on one finished file exactly one wins', async () => {
      const f = await processingFile([{ name: 'analyze', status: 'pending' }]);
      await store.startStep(f.id, 'analyze');
      await store.finishStep(f.id, 'analyze', { status: 'completed', durationMs: 1, result: {} });
      assert.equal((await store.finalizeFile(f.id))?.status, 'completed');
      const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? other : store).resetForReprocess(f.id)));
      assert.equal(claims.filter(Boolean).length, 1);
      assert.equal((await store.getFile(f.id))?.status, 'uploaded');
    });

    test('deleteFile removes the record and its steps, refuses a processing file unless forced, and drops usage', async () => {
      const done = await processingFile([{ name: 'thumbnail', status: 'pending' }], { owner: 'deleter', size: 700 });
      await store.startStep(done.id, 'thumbnail');
      await store.finishStep(done.id, 'thumbnail', { status: 'completed', durationMs: 1, result: { thumbnailKey: `thumbnails/${done.id}.webp` } });
      await store.finalizeFile(done.id);
      const busy = await processingFile([{ name: 'analyze', status: 'pending' }], { owner: 'deleter', size: 300 });
      assert.equal(await store.reports.usageOf('deleter'), 1000);

      const gone = await store.deleteFile(done.id);
      assert.equal(gone.status, 'deleted');
      assert.equal(gone.status === 'deleted' && gone.file.steps[0]?.result?.thumbnailKey, `thumbnails/${done.id}.webp`);
      assert.equal(await store.getFile(done.id), null);
      assert.equal(await store.reports.usageOf('deleter'), 300);
      assert.deepEqual(await store.deleteFile(done.id), { status: 'missing' });

      assert.deepEqual(await store.deleteFile(busy.id), { status: 'busy' });
      assert.equal((await store.getFile(busy.id))?.status, 'processing');
      assert.equal((await other.deleteFile(busy.id, { force: true })).status, 'deleted');
      assert.equal(await store.getFile(busy.id), null);
      assert.equal(await store.reports.usageOf('deleter'), 0);
    });

    test('steps count attempts, heartbeat, keep a retry error, and store results as objects', async () => {
      const f = await processingFile([
        { name: 'analyze', status: 'pending' },
        { name: 'thumbnail', status: 'skipped' },
      ]);
      const t0 = Date.now();
      await store.startStep(f.id, 'analyze');
      let s = (await store.getFile(f.id))?.steps[0];
      assert.ok(s);
      assert.equal(s.status, 'running');
      assert.equal(s.attempts, 1);
      assert.ok(s.startedAt instanceof Date && s.startedAt.getTime() >= t0 - 5);
      assert.ok(s.heartbeatAt instanceof Date);
      const firstBeat = s.heartbeatAt.getTime();

      await sleep(15);
      await store.heartbeatStep(f.id, 'analyze');
      s = (await store.getFile(f.id))?.steps[0];
      assert.ok(s?.heartbeatAt && s.heartbeatAt.getTime() > firstBeat);

      await store.finishStep(f.id, 'analyze', { status: 'pending', durationMs: 12.4, error: 'model busy' });
      s = (await store.getFile(f.id))?.steps[0];
      assert.equal(s?.status, 'pending');
      assert.equal(s?.error, 'model busy');
      assert.equal(s?.durationMs, 12);
      assert.ok(s?.finishedAt instanceof Date);

      await store.startStep(f.id, 'analyze');
      assert.equal((await store.getFile(f.id))?.steps[0]?.attempts, 2);
      const result = { labels: [{ name: 'cat', score: 0.93 }], nsfw: false, nested: { n: 1, s: 'ü', none: null } };
      await store.finishStep(f.id, 'analyze', { status: 'completed', durationMs: 250, result });
      const done = (await other.getFile(f.id))?.steps[0];
      assert.equal(done?.status, 'completed');
      assert.equal(done?.attempts, 2);
      assert.equal(done?.durationMs, 250);
      assert.equal(done?.error, null);
      assert.deepEqual(done?.result, result);

      // Final and skipped steps ignore stale reports.
      await store.startStep(f.id, 'analyze');
      await store.finishStep(f.id, 'analyze', { status: 'failed', durationMs: 1, error: 'late' });
      await store.startStep(f.id, 'thumbnail');
      const after = await store.getFile(f.id);
      assert.deepEqual(
        after?.steps.map((x) => [x.name, x.status, x.attempts]),
        [
          ['analyze', 'completed', 2],
          ['thumbnail', 'skipped', 0],
        ],
      );
      // Heartbeats only touch running steps.
      await store.heartbeatStep(f.id, 'thumbnail');
      assert.equal((await store.getFile(f.id))?.steps[1]?.heartbeatAt, null);
    });

    test('finalizeFile waits for every step, then completes once', async () => {
      const f = await processingFile([
        { name: 'analyze', status: 'pending' },
        { name: 'thumbnail', status: 'pending' },
        { name: 'ocr', status: 'skipped' },
      ]);
      assert.equal(await store.finalizeFile(f.id), null);
      await store.startStep(f.id, 'analyze');
      await store.finishStep(f.id, 'analyze', { status: 'completed', durationMs: 1, result: { a: 1 } });
      await store.startStep(f.id, 'thumbnail');
      assert.equal(await store.finalizeFile(f.id), null, 'a running step keeps the file processing');
      await store.finishStep(f.id, 'thumbnail', { status: 'completed', durationMs: 1, result: { key: 'thumbs/x' } });
      const done = await store.finalizeFile(f.id);
      assert.ok(done);
      assert.equal(done.status, 'completed');
      assert.equal(done.error, null);
      assert.ok(done.completedAt instanceof Date);
      assert.deepEqual(
        done.steps.map((s) => s.status),
        ['completed', 'completed', 'skipped'],
      );
      assert.deepEqual(done.steps[1]?.result, { key: 'thumbs/x' });
      const { notifications, ...record } = done;
      assert.deepEqual(notifications, [], 'no planner, no rows');
      assert.deepEqual(await store.getFile(f.id), record);
      assert.equal(await store.finalizeFile(f.id), null);
      assert.equal(await store.finalizeFile(randomUUID()), null);
      const uploaded = await store.createFile(newFile());
      assert.equal(await store.finalizeFile(uploaded.id), null, 'only processing files finalize');
    });

    test('finalizeFile fails a file naming its first failed step', async () => {
      const f = await processingFile([
        { name: 'analyze', status: 'pending' },
        { name: 'thumbnail', status: 'skipped' },
        { name: 'ocr', status: 'pending' },
      ]);
      await store.finishStep(f.id, 'analyze', { status: 'completed', durationMs: 3, result: {} });
      await store.finishStep(f.id, 'ocr', { status: 'failed', durationMs: 4, error: 'reason' });
      const failed = await store.finalizeFile(f.id);
      assert.equal(failed?.status, 'failed');
      assert.equal(failed?.error, 'ocr: reason');
      assert.ok(failed?.completedAt instanceof Date);

      const g = await processingFile([
        { name: 'analyze', status: 'pending' },
        { name: 'thumbnail', status: 'pending' },
        { name: 'ocr', status: 'pending' },
      ]);
      await store.finishStep(g.id, 'ocr', { status: 'failed', durationMs: 1, error: 'second' });
      await store.finishStep(g.id, 'thumbnail', { status: 'failed', durationMs: 1, error: 'image is truncated' });
      await store.finishStep(g.id, 'analyze', { status: 'completed', durationMs: 1, result: {} });
      assert.equal((await store.finalizeFile(g.id))?.error, 'thumbnail: image is truncated');
    });

    test('finalizeFile raced by 10 concurrent callers returns the record to exactly one', async () => {
      for (let round = 0; round < 3; round++) {
        const f = await processingFile([
          { name: 'analyze', status: 'pending' },
          { name: 'ocr', status: 'pending' },
        ]);
        await store.finishStep(f.id, 'analyze', { status: 'completed', durationMs: 1, result: {} });
        await store.finishStep(f.id, 'ocr', { status: 'completed', durationMs: 1, result: {} });
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? other : store).finalizeFile(f.id)));
        const winners = results.filter((r) => r !== null);
        assert.equal(winners.length, 1);
        assert.equal(winners[0]?.status, 'completed');
      }
    });

    test('failFile forces a non-final file to failed, and leaves final files alone', async () => {
      const u = await store.createFile(newFile());
      const failed = await store.failFile(u.id, 'stuck: no heartbeat for 10 minutes');
      assert.equal(failed?.status, 'failed');
      assert.equal(failed?.error, 'stuck: no heartbeat for 10 minutes');
      assert.ok(failed?.completedAt instanceof Date);
      assert.equal(await store.failFile(u.id, 'again'), null);

      const p = await processingFile([{ name: 'analyze', status: 'pending' }]);
      await store.startStep(p.id, 'analyze');
      const pf = await store.failFile(p.id, 'worker lost');
      assert.equal(pf?.status, 'failed');
      assert.equal(pf?.steps.length, 1);
      assert.equal(await store.finalizeFile(p.id), null);
      assert.equal(await store.failFile(randomUUID(), 'x'), null);
    });

    test('listFiles pages newest first with filters, without duplicates or gaps', async () => {
      const alice = randomName('alice');
      const bob = randomName('bob');
      const created: FileRecord[] = [];
      // Several files share a millisecond, so the id tie-break is exercised.
      for (let i = 0; i < 23; i++) {
        created.push(await store.createFile(newFile({ owner: i % 3 === 0 ? bob : alice })));
        if (i % 5 === 0) await sleep(2);
      }
      for (const f of created.slice(0, 8)) await store.startProcessing(f.id, 'image/png', [{ name: 'analyze', status: 'pending' }]);
      for (const f of created.slice(0, 3)) await store.failFile(f.id, 'boom');

      const byNewest = (a: FileRecord, b: FileRecord) => b.uploadedAt.getTime() - a.uploadedAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
      async function collect(owner: string | undefined, status: FileStatus | undefined, limit: number) {
        const ids: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        for (;;) {
          const page = await store.listFiles({ owner, status, limit, cursor });
          assert.ok(page.items.length <= limit);
          pages++;
          ids.push(...page.items.map((f) => f.id));
          for (const f of page.items) {
            if (owner !== undefined) assert.equal(f.owner, owner);
            if (status !== undefined) assert.equal(f.status, status);
          }
          if (page.nextCursor === null) break;
          assert.equal(page.items.length, limit, 'a page before the last is full');
          cursor = page.nextCursor;
        }
        return { ids, pages };
      }
      const current = await Promise.all(created.map(async (f) => (await store.getFile(f.id)) as FileRecord));
      const cases: Array<[string | undefined, FileStatus | undefined, number]> = [
        [alice, undefined, 4],
        [bob, undefined, 3],
        [alice, 'processing', 2],
        [bob, 'failed', 1],
        [alice, 'uploaded', 500],
      ];
      for (const [owner, status, limit] of cases) {
        const expected = current.filter((f) => f.owner === owner && (status === undefined || f.status === status)).sort(byNewest);
        const { ids } = await collect(owner, status, limit);
        assert.deepEqual(
          ids,
          expected.map((f) => f.id),
          `owner=${owner} status=${status} limit=${limit}`,
        );
      }

      // Unfiltered, across everything the other tests created too.
      const all = await collect(undefined, undefined, 7);
      assert.equal(new Set(all.ids).size, all.ids.length, 'no duplicates');
      for (const f of created) assert.ok(all.ids.includes(f.id));
      const page = await store.listFiles({ owner: alice, limit: 3 });
      assert.ok(page.items[0]?.uploadedAt instanceof Date);
      const processing = (await store.listFiles({ owner: alice, status: 'processing', limit: 500 })).items;
      assert.ok(processing.every((f) => f.steps.length === 1 && f.steps[0]?.name === 'analyze'));
      assert.deepEqual(await store.listFiles({ owner: randomName('nobody'), limit: 10 }), { items: [], nextCursor: null });
    });

    test('listFiles rejects a bad limit or cursor with BAD_REQUEST', async () => {
      for (const limit of [0, 501, 1.5]) {
        await assert.rejects(store.listFiles({ limit }), (err) => errorCode(err) === ErrorCodes.BAD_REQUEST);
      }
      for (const cursor of ['not-a-cursor', Buffer.from('{"a":1}').toString('base64url'), '']) {
        await assert.rejects(store.listFiles({ limit: 5, cursor }), (err) => errorCode(err) === ErrorCodes.BAD_REQUEST);
      }
    });

    consoleConformance(() => ({ store }));
    ownerConformance(() => ({ store, other }));
    outboxConformance(() => ({ store, other }));
    settleConformance(
      () => ({ store, other }),
      async (failedStep) => {
        const f = await processingFile([
          { name: 'analyze', status: 'pending' },
          { name: 'thumbnail', status: 'skipped' },
          { name: 'ocr', status: 'skipped' },
        ]);
        await store.startStep(f.id, 'analyze');
        await store.finishStep(
          f.id,
          'analyze',
          failedStep ? { status: 'failed', durationMs: 1, error: 'broken' } : { status: 'completed', durationMs: 1, result: {} },
        );
        return (await store.getFile(f.id))!;
      },
    );
    reportConformance(() => ({ store, other, seed: (files) => harness.seedFiles(files) }));

    test('workers: a beat records the process; three missed beats make it stale; purge removes the gone', async () => {
      const id = randomName('host:1:worker');
      const t0 = new Date('2030-01-01T00:00:00Z');
      const beat = {
        id,
        host: 'host',
        pid: 1,
        role: 'worker',
        jobs: ['ocr', 'analyze'],
        concurrency: 3,
        running: [{ job: 'ocr', jobId: 'j1', fileId: 'f1', startedAt: new Date(t0.getTime() - 500), attempt: 2 }],
        startedAt: new Date(t0.getTime() - 60_000),
        version: '1.2.3',
        heartbeatMs: 1000,
      };
      await store.workers.beat(beat, t0);
      const [w] = (await other.workers.list(new Date(t0.getTime() + 2500))).filter((x) => x.id === id);
      assert.ok(w);
      assert.equal(w.state, 'alive');
      assert.deepEqual(w.jobs, ['ocr', 'analyze']);
      assert.deepEqual(w.running, beat.running);
      assert.equal(w.startedAt.getTime(), beat.startedAt.getTime());
      assert.equal(w.heartbeatAt.getTime(), t0.getTime());
      assert.equal(w.locksReleasedAt, null);
      const later = new Date(t0.getTime() + 3500);
      assert.equal((await store.workers.list(later)).find((x) => x.id === id)?.state, 'stale');
      await store.workers.markReleased(id, later);
      assert.equal((await store.workers.list(later)).find((x) => x.id === id)?.locksReleasedAt?.getTime(), later.getTime());
      await store.workers.beat({ ...beat, running: [] }, later);
      const back = (await store.workers.list(later)).find((x) => x.id === id)!;
      assert.equal(back.state, 'alive');
      assert.equal(back.locksReleasedAt, null, 'a beat clears the release mark');
      assert.deepEqual(back.running, []);
      assert.ok((await store.workers.purge(new Date(later.getTime() + 1))) >= 1);
      assert.equal(
        (await store.workers.list(later)).some((x) => x.id === id),
        false,
      );
    });

    test('controls: set is idempotent and keeps the first time, clear says whether it was set', async () => {
      const key = `job:${randomName('ctl')}`;
      await store.controls.set(key, 'cli:alice@h', new Date(1000));
      await other.controls.set(key, 'api', new Date(2000));
      const c = (await store.controls.list()).find((x) => x.key === key);
      assert.deepEqual(c, { key, by: 'cli:alice@h', at: new Date(1000) });
      assert.equal(await other.controls.clear(key), true);
      assert.equal(await other.controls.clear(key), false);
      assert.equal(
        (await store.controls.list()).some((x) => x.key === key),
        false,
      );
    });

    test('files by filter (status, owner, failed step, uploaded before/after), paged by id; bulk reset; counts by status', async () => {
      const owner = randomName('bulk');
      const ok = await processingFile(
        [
          { name: 'analyze', status: 'pending' },
          { name: 'ocr', status: 'pending' },
        ],
        { owner },
      );
      await store.finishStep(ok.id, 'analyze', { status: 'completed', durationMs: 1, result: {} });
      await store.finishStep(ok.id, 'ocr', { status: 'completed', durationMs: 1, result: {} });
      await store.finalizeFile(ok.id);
      const bad = await processingFile(
        [
          { name: 'analyze', status: 'pending' },
          { name: 'ocr', status: 'pending' },
        ],
        { owner },
      );
      await store.finishStep(bad.id, 'analyze', { status: 'completed', durationMs: 1, result: {} });
      await store.finishStep(bad.id, 'ocr', { status: 'failed', durationMs: 1, error: 'x' });
      await store.finalizeFile(bad.id);
      const purged = await store.createFile(newFile({ owner }));
      await store.failFile(purged.id, 'process-file: purged by operator');
      const busy = await processingFile([{ name: 'ocr', status: 'pending' }], { owner });

      const ids = (f: Parameters<Store['findFileIds']>[0]) => store.findFileIds(f, 100).then((r) => r.sort());
      assert.deepEqual(await ids({ owner, status: 'failed' }), [bad.id, purged.id].sort());
      assert.deepEqual(await ids({ owner, failedStep: 'ocr' }), [bad.id]);
      assert.deepEqual(await ids({ owner, failedStep: 'analyze' }), []);
      assert.deepEqual(await ids({ owner, uploadedAfter: new Date(Date.now() + 60_000) }), []);
      assert.equal((await ids({ owner, uploadedBefore: new Date(Date.now() + 60_000) })).length, 4);
      const first = await store.findFileIds({ owner }, 2);
      const rest = await store.findFileIds({ owner }, 100, first.at(-1));
      assert.deepEqual([...first, ...rest], [ok.id, bad.id, purged.id, busy.id].sort());

      const counts = await store.countFilesByStatus();
      assert.deepEqual(Object.keys(counts).sort(), ['completed', 'failed', 'processing', 'uploaded']);
      assert.ok(counts.failed >= 2 && counts.processing >= 1);

      const reset = await store.resetManyForReprocess([ok.id, bad.id, busy.id, 'missing']);
      assert.deepEqual(reset.sort(), [ok.id, bad.id].sort(), 'a file being processed is not reset');
      const again = await store.getFile(bad.id);
      assert.equal(again?.status, 'uploaded');
      assert.equal(again?.error, null);
      assert.deepEqual(again?.steps, []);
      assert.equal((await store.getFile(busy.id))?.status, 'processing');
      assert.deepEqual(await store.resetManyForReprocess([]), []);
    });
  });
}
