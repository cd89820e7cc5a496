import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';

import type { Store } from '../../src/store/types.js';
import { randomName } from '../helpers/env.js';
import type { SeedFile } from './seed.js';

const H = 3_600_000;

/**
 * Housekeeping reads over seeded files. Every window lies far from "now" and every owner is
 * random, so what other tests create never leaks into the exact counts.
 */
export function reportConformance(ctx: () => { store: Store; other: Store; seed(files: readonly SeedFile[]): Promise<void> }): void {
  test('reports: summarize per owner and for everyone, with exact counts, times, reasons and hours', async () => {
    const { store, other, seed } = ctx();
    const b = Date.UTC(2031, 0, 1) + Math.floor(Math.random() * 1000) * 86_400_000;
    const at = (ms: number) => new Date(b + ms);
    const A = randomName('alice');
    const B = randomName('bob');
    const f = (
      owner: string | null,
      status: SeedFile['status'],
      up: number,
      started: number | null,
      done: number | null,
      error: string | null = null,
    ): SeedFile => ({
      id: randomUUID(),
      owner,
      status,
      uploadedAt: at(up),
      startedAt: started === null ? null : at(started),
      completedAt: done === null ? null : at(done),
      error,
    });
    await seed([
      f(A, 'uploaded', 0.5 * H, null, null),
      f(A, 'uploaded', 0.6 * H, null, null),
      f(A, 'completed', H + 1000, H + 2000, H + 12_000),
      f(A, 'completed', 2 * H, 2 * H + 1000, 2 * H + 6000),
      f(A, 'failed', 3 * H, 3 * H, 3 * H + 100, 'ocr: bad'),
      f(A, 'failed', 3 * H + 5, 3 * H + 5, 3 * H + 205, 'ocr: bad'),
      f(A, 'failed', 3 * H + 10, 3 * H + 10, 4 * H, 'analyze: oom'),
      f(A, 'failed', -2 * H, null, 5 * H, 'stuck'),
      f(A, 'completed', 23 * H, 23 * H, 25 * H),
      f(B, 'processing', 0, 0, null),
      f(B, 'completed', -H, -H, 500),
      f(B, 'uploaded', 24 * H, null, null),
      f(null, 'failed', 6 * H, 6 * H, 6 * H + 50, 'ocr: bad'),
    ]);
    const from = at(0);
    const to = at(24 * H);
    const hours = (m: Record<number, number>) => Array.from({ length: 24 }, (_, i) => m[i] ?? 0);

    const a = await store.reports.summarize(A, from, to);
    assert.deepEqual([a.uploaded, a.completed, a.failed], [8, 2, 4]);
    assert.deepEqual(a.processingMs, [100, 200, 5000, 10_000, H - 10]);
    assert.deepEqual(a.topFailures, [
      { reason: 'ocr: bad', count: 2 },
      { reason: 'analyze: oom', count: 1 },
      { reason: 'stuck', count: 1 },
    ]);
    assert.equal(a.hourly.length, 24);
    assert.deepEqual(
      a.hourly.map((h) => h.hour.getTime()),
      hours({}).map((_, i) => b + i * H),
    );
    assert.deepEqual(
      a.hourly.map((h) => h.uploads),
      hours({ 0: 2, 1: 1, 2: 1, 3: 3, 23: 1 }),
    );
    assert.deepEqual(
      a.hourly.map((h) => h.failures),
      hours({ 3: 2, 4: 1, 5: 1 }),
    );

    const bob = await other.reports.summarize(B, from, to);
    assert.deepEqual([bob.uploaded, bob.completed, bob.failed, bob.processingMs, bob.topFailures], [1, 1, 0, [H + 500], []]);
    assert.deepEqual(
      bob.hourly.map((h) => h.uploads),
      hours({ 0: 1 }),
    );

    const all = await store.reports.summarize(null, from, to);
    assert.deepEqual([all.uploaded, all.completed, all.failed], [10, 3, 5]);
    assert.deepEqual(all.processingMs, [50, 100, 200, 5000, 10_000, H - 10, H + 500]);
    assert.deepEqual(all.topFailures, [
      { reason: 'ocr: bad', count: 3 },
      { reason: 'analyze: oom', count: 1 },
      { reason: 'stuck', count: 1 },
    ]);
    assert.deepEqual(
      all.hourly.map((h) => h.uploads),
      hours({ 0: 3, 1: 1, 2: 1, 3: 3, 6: 1, 23: 1 }),
    );
    assert.deepEqual(
      all.hourly.map((h) => h.failures),
      hours({ 3: 2, 4: 1, 5: 1, 6: 1 }),
    );

    const quiet = await store.reports.summarize(randomName('nobody'), from, to);
    assert.deepEqual([quiet.uploaded, quiet.completed, quiet.failed, quiet.processingMs, quiet.topFailures], [0, 0, 0, [], []]);
    assert.equal((await store.reports.summarize(null, at(0), at(2.5 * H))).hourly.length, 3, 'ceil of the window in hours');

    assert.deepEqual(await store.reports.ownersWithActivity(from, to), [A, B].sort());
    assert.deepEqual(await other.reports.ownersWithActivity(at(25 * H), at(26 * H)), [A], 'a finish alone is activity');
    assert.deepEqual(await store.reports.ownersWithActivity(at(-2 * H), at(-H)), [A], 'upload alone; `to` is exclusive');
    assert.deepEqual(await store.reports.ownersWithActivity(at(100 * H), at(124 * H)), []);
  });

  test('reports: usage per owner counts originals and derived bytes', async () => {
    const { store, other, seed } = ctx();
    const A = randomName('alice');
    const B = randomName('bob');
    const t = new Date(Date.UTC(2001, 5, 1));
    const files: SeedFile[] = [
      { id: randomUUID(), owner: A, status: 'completed', uploadedAt: t, size: 1000, derivedBytes: 50 },
      { id: randomUUID(), owner: A, status: 'uploaded', uploadedAt: t, size: 4_000_000_000 },
      { id: randomUUID(), owner: B, status: 'failed', uploadedAt: t, size: 7 },
      { id: randomUUID(), owner: null, status: 'completed', uploadedAt: t, size: 99 },
    ];
    await seed(files);
    await store.reports.addDerivedBytes(files[2]?.id ?? '', 3);
    await other.reports.addDerivedBytes(files[2]?.id ?? '', 4);
    await store.reports.addDerivedBytes(randomUUID(), 5);
    const usage = await store.reports.usageByOwner();
    assert.equal(usage.get(A), 4_000_001_050);
    assert.equal(usage.get(B), 14);
    assert.equal(usage.has(randomName('nobody')), false);
    assert.ok([...usage.keys()].every((k) => typeof k === 'string'));
    assert.equal(await other.reports.usageOf(A), 4_000_001_050);
    assert.equal(await other.reports.usageOf(B), 14);
    assert.equal(await store.reports.usageOf(randomName('nobody')), 0);
    // Files created through the store count too.
    const f = await store.createFile({ id: randomUUID(), owner: B, filename: 'x', contentType: 'image/png', size: 10, blobKey: 'k' });
    await store.reports.addDerivedBytes(f.id, 1);
    assert.equal(await store.reports.usageOf(B), 25);
  });

  test('reports: countFilesByStatus counts every file by status (seen from another connection too)', async () => {
    const { store, other, seed } = ctx();
    const before = await store.reports.countFilesByStatus();
    const at = new Date(Date.UTC(2002, 0, 1));
    await seed([
      { id: randomUUID(), owner: null, status: 'failed', uploadedAt: at, steps: [] },
      { id: randomUUID(), owner: null, status: 'failed', uploadedAt: at, steps: [] },
      { id: randomUUID(), owner: null, status: 'completed', uploadedAt: at, steps: [] },
    ]);
    const after = await other.reports.countFilesByStatus();
    const delta = (s: string) => (after[s] ?? 0) - (before[s] ?? 0);
    assert.deepEqual(
      { failed: delta('failed'), completed: delta('completed'), processing: delta('processing'), uploaded: delta('uploaded') },
      { failed: 2, completed: 1, processing: 0, uploaded: 0 },
    );
    for (const n of Object.values(after)) assert.equal(typeof n, 'number');
  });

  test('reports: existingFileIds, findRunningSteps and findProcessingFiles', async () => {
    const { store, other, seed } = ctx();
    const base = Date.UTC(2001, 0, 1) + Math.floor(Math.random() * 100) * 86_400_000;
    const at = (m: number) => new Date(base + m * 60_000);
    const ids = Array.from({ length: 5 }, () => randomUUID());
    const [p1, p2, p3, p4, p5] = ids as [string, string, string, string, string];
    await seed([
      {
        id: p1,
        owner: 'alice',
        status: 'processing',
        uploadedAt: at(0),
        startedAt: at(1),
        steps: [
          { name: 'analyze', status: 'running', attempts: 2, startedAt: at(1), heartbeatAt: at(3) },
          { name: 'ocr', status: 'pending', heartbeatAt: at(0) },
        ],
      },
      {
        id: p2,
        owner: null,
        status: 'processing',
        uploadedAt: at(0),
        startedAt: at(0),
        steps: [{ name: 'thumbnail', status: 'running', attempts: 1, startedAt: at(0), heartbeatAt: at(2) }],
      },
      {
        id: p3,
        owner: 'bob',
        status: 'processing',
        uploadedAt: at(0),
        startedAt: at(5),
        steps: [{ name: 'ocr', status: 'running', attempts: 1, startedAt: at(5), heartbeatAt: at(50) }],
      },
      {
        id: p4,
        owner: 'bob',
        status: 'completed',
        uploadedAt: at(0),
        startedAt: at(0),
        completedAt: at(1),
        steps: [{ name: 'analyze', status: 'completed', heartbeatAt: at(0) }],
      },
      { id: p5, owner: 'bob', status: 'uploaded', uploadedAt: at(0) },
    ]);

    const stuck = await store.reports.findRunningSteps(at(10), 10);
    assert.deepEqual(
      stuck.map((s) => [s.fileId, s.step, s.attempts, s.heartbeatAt?.getTime(), s.startedAt?.getTime()]),
      [
        [p2, 'thumbnail', 1, at(2).getTime(), at(0).getTime()],
        [p1, 'analyze', 2, at(3).getTime(), at(1).getTime()],
      ],
    );
    assert.deepEqual(
      (await other.reports.findRunningSteps(at(10), 1)).map((s) => s.fileId),
      [p2],
    );
    assert.deepEqual(await store.reports.findRunningSteps(at(2), 10), [], 'strictly older');

    const processing = await store.reports.findProcessingFiles(at(10), 10);
    assert.deepEqual(processing, [
      { id: p2, owner: null, startedAt: at(0) },
      { id: p1, owner: 'alice', startedAt: at(1) },
      { id: p3, owner: 'bob', startedAt: at(5) },
    ]);
    assert.deepEqual(
      (await other.reports.findProcessingFiles(at(10), 2)).map((f) => f.id),
      [p2, p1],
    );

    const unknown: string[] = Array.from({ length: 2500 }, () => randomUUID());
    unknown.splice(1234, 0, p4);
    unknown.push(p5);
    assert.deepEqual(await store.reports.existingFileIds(unknown), new Set([p4, p5]));
    assert.deepEqual(await other.reports.existingFileIds([p1, randomUUID(), p1]), new Set([p1]));
    assert.deepEqual(await store.reports.existingFileIds([]), new Set());
  });
}
