import assert from 'node:assert/strict';
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { Agenda } from 'agenda';

import cleanupStuck from '../../jobs/cleanup-stuck.js';
import { createBlobStore } from '../../src/blobs/index.js';
import type { BlobStore } from '../../src/blobs/types.js';
import { purgeOrphanBlobs } from '../../src/cleanup/blobs.js';
import { LOST_AFTER_MS, requeueLostWork } from '../../src/cleanup/lost.js';
import { recoverStuckSteps } from '../../src/cleanup/stuck.js';
import type { Config } from '../../src/config.js';
import { createEngineBackend, type EngineBackend } from '../../src/engine/backends.js';
import { type JobContext, type JobServices, lockLifetimeMs } from '../../src/engine/job.js';
import { createMaintenance } from '../../src/engine/maintenance.js';
import { createLogger } from '../../src/logger.js';
import { createHub, type NotifyHub } from '../../src/notify/hub.js';
import { NO_LINKS } from '../../src/notify/links.js';
import { isStep } from '../../src/pipeline/step.js';
import { loadConfig, registry } from '../../src/registry.js';
import { engineDatabase } from '../../src/service.js';
import { createStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { createTempDir } from '../helpers/env.js';

const log = createLogger('silent');
const LIMITS = { analyze: { timeoutMs: 60_000, attempts: 3 }, thumbnail: { timeoutMs: 60_000, attempts: 3 }, ocr: { timeoutMs: 120_000, attempts: 3 } };

/** Cleanup over a real store and a real local blob directory; `database` opens the store under test. */
export function cleanupSuite(database: () => Promise<{ database: Config['database']; drop(): Promise<void> }>): void {
  let store: Store;
  let blobs: BlobStore;
  let tmp: Awaited<ReturnType<typeof createTempDir>>;
  let drop: () => Promise<void>;
  const enqueued: Array<{ name: string; fileId: string }> = [];
  const scheduled: string[] = [];
  let services: JobServices;
  let agenda: Agenda;
  let engineBackend: EngineBackend | undefined;

  before(async () => {
    tmp = await createTempDir();
    const db = await database();
    drop = db.drop;
    store = await createStore(db.database, { log });
    await store.migrate();
    blobs = await createBlobStore({ kind: 'local', dir: join(tmp.dir, 'blobs') }, { log });
    engineBackend = await createEngineBackend(engineDatabase(db.database), { log });
    agenda = new Agenda({ backend: engineBackend.backend });
    await agenda.ready;
    const config = loadConfig({ DATA_DIR: tmp.dir });
    // The real hub on the store under test (console: the owner fallback and the default admin).
    const notify: NotifyHub = createHub({
      config: config.notify,
      store,
      notifiers: new Map(config.notifiers.map((n) => [n.name, n.create({ log })] as const)),
      renderContext: { links: NO_LINKS },
      schedule: async (n) => void scheduled.push(n.id),
      log,
    });
    services = {
      config,
      store,
      blobs,
      notify,
      maintenance: createMaintenance(agenda, new Map(registry.jobs.map((d) => [d.name, lockLifetimeMs(config.jobs[d.name])] as const))),
      steps: registry.jobs.filter(isStep).map((d) => d.name),
      enqueue: async (name, payload) => void enqueued.push({ name, fileId: (payload as { fileId: string }).fileId }),
    };
  });
  after(async () => {
    await engineBackend?.backend.disconnect();
    await store?.close();
    await blobs?.close();
    await drop?.();
    await tmp?.remove();
  });

  async function runningFile(id: string, attempts: number): Promise<void> {
    await store.createFile({ id, owner: 'ann', filename: `${id}.png`, contentType: 'image/png', size: 10, blobKey: `originals/${id}` });
    await store.startProcessing(id, 'image/png', [
      { name: 'analyze', status: 'pending' },
      { name: 'thumbnail', status: 'skipped' },
      { name: 'ocr', status: 'skipped' },
    ]);
    for (let i = 0; i < attempts; i++) await store.startStep(id, 'analyze');
  }

  test('a silent step is re-enqueued while attempts remain, else the file fails as stuck: file.failed to its owner, file.stuck to admins', async () => {
    await runningFile('f-retry', 1);
    await runningFile('f-dead', 3);
    await runningFile('f-alive', 1);
    const later = new Date(Date.now() + 25 * 60_000);
    // f-alive's Agenda job is reported locked by a dead worker: it is recovered too.
    const r = await recoverStuckSteps(services, LIMITS, new Set(['analyze:f-alive']), later, log);
    assert.deepEqual(r, { reEnqueued: 2, failedStuck: 1 });
    assert.deepEqual(enqueued.map((e) => e.fileId).sort(), ['f-alive', 'f-retry']);
    const retry = await store.getFile('f-retry');
    assert.equal(retry?.status, 'processing');
    assert.equal(retry?.steps[0]?.status, 'pending');
    const dead = await store.getFile('f-dead');
    assert.equal(dead?.status, 'failed');
    assert.equal(dead?.error, 'stuck in analyze for 25 min and out of attempts (3 of 3)');
    assert.equal(dead?.steps[0]?.error, 'stuck — no progress for 25 min');

    // Both messages were committed with the status and handed to delivery.
    const rows = (await store.outbox.list({ owner: 'ann', limit: 50 })).items;
    const owner = rows.filter((n) => n.event === 'file.failed');
    assert.deepEqual(
      owner.map((n) => [n.channel, n.recipient]),
      [['console', 'owner:ann']],
    );
    assert.match(JSON.stringify(owner[0]?.message), /f-dead\.png/);
    assert.match(JSON.stringify(owner[0]?.message), /stuck in analyze for 25 min and out of attempts/);
    const admins = rows.filter((n) => n.event === 'file.stuck');
    assert.deepEqual(
      admins.map((n) => [n.channel, n.recipient]),
      [['console', 'admin']],
    );
    assert.deepEqual(scheduled.sort(), [owner[0]!.id, admins[0]!.id].sort());

    // Run again: the file is final, nothing more is sent.
    const again = await recoverStuckSteps(services, LIMITS, new Set(['analyze:f-dead']), new Date(later.getTime() + 60_000), log);
    assert.equal(again.failedStuck, 0);
    assert.equal((await store.outbox.list({ owner: 'ann', limit: 50 })).items.length, 2);

    await runningFile('f-fresh', 1);
    const quiet = await recoverStuckSteps(services, LIMITS, new Set(), new Date(Date.now() + 30_000), log);
    assert.deepEqual(quiet, { reEnqueued: 0, failedStuck: 0 }, 'a step within its time limit is left alone');
  });

  test('work whose job was lost is enqueued again; work with a live job is left alone', async () => {
    const upload = (id: string) =>
      store.createFile({ id, owner: 'ann', filename: `${id}.png`, contentType: 'image/png', size: 10, blobKey: `originals/${id}` });
    await upload('u-lost');
    await upload('u-live');
    await agenda
      .create('process-file', { fileId: 'u-live' })
      .schedule(new Date(Date.now() + 3_600_000))
      .save();
    for (const id of ['p-lost', 'p-live']) {
      await upload(id);
      await store.startProcessing(id, 'image/png', [
        { name: 'analyze', status: 'pending' },
        { name: 'thumbnail', status: 'skipped' },
        { name: 'ocr', status: 'skipped' },
      ]);
    }
    await agenda
      .create('analyze', { fileId: 'p-live' })
      .schedule(new Date(Date.now() + 3_600_000))
      .save();
    // A finished process-file job does not count as live (a reprocess cut short before its enqueue).
    const done = agenda.create('process-file', { fileId: 'u-lost' });
    done.attrs.nextRunAt = null;
    done.attrs.lastFinishedAt = new Date();
    await done.save();

    enqueued.length = 0;
    const soon = await requeueLostWork(services, new Date(Date.now() + 60_000), log);
    assert.equal(soon, 0, 'work younger than the grace period is left alone');
    const n = await requeueLostWork(services, new Date(Date.now() + 2 * LOST_AFTER_MS), log);
    const mine = enqueued
      .filter((e) => /^[up]-/.test(e.fileId))
      .map((e) => `${e.name}:${e.fileId}`)
      .sort();
    assert.deepEqual(mine, ['analyze:p-lost', 'process-file:u-lost']);
    assert.ok(n >= 2);
  });

  test('orphan blobs older than the cutoff go; younger and referenced ones stay', async () => {
    await store.createFile({ id: 'kept', owner: 'ann', filename: 'k.png', contentType: 'image/png', size: 1, blobKey: 'originals/kept' });
    for (const key of ['originals/kept', 'thumbnails/kept.webp', 'originals/gone-old', 'thumbnails/gone-old.webp', 'originals/gone-young', 'other/keep-me']) {
      await blobs.put(key, Buffer.from('x'));
    }
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    for (const key of ['originals/kept', 'thumbnails/kept.webp', 'originals/gone-old', 'thumbnails/gone-old.webp', 'other/keep-me']) {
      await utimes(join(tmp.dir, 'blobs', key), twoDaysAgo, twoDaysAgo);
    }
    const purged = await purgeOrphanBlobs(blobs, store.reports, new Date(Date.now() - 86_400_000));
    assert.equal(purged, 2);
    assert.equal(await blobs.head('originals/gone-old'), null);
    assert.equal(await blobs.head('thumbnails/gone-old.webp'), null);
    for (const key of ['originals/kept', 'thumbnails/kept.webp', 'originals/gone-young', 'other/keep-me']) assert.notEqual(await blobs.head(key), null, key);
  });

  test('the job returns its counts and purges old job runs', async () => {
    await store.runs.begin({ job: 'cleanup-stuck', occurrence: 'old', worker: 'w', staleBefore: new Date(0) });
    await store.runs.finish('cleanup-stuck', 'old', { status: 'succeeded', result: {} });
    const ctx = {
      jobId: 'j1',
      name: 'cleanup-stuck',
      data: {},
      attempt: 1,
      maxAttempts: 2,
      log,
      signal: new AbortController().signal,
      hardSignal: new AbortController().signal,
      options: services.config.jobs['cleanup-stuck'],
      heartbeat: async () => undefined,
      clock: { hold() {}, restart() {} },
      services: { ...services, config: loadConfig({ DATA_DIR: tmp.dir, RETENTION_JOBS_DAYS: '1' }) },
    } satisfies JobContext<'cleanup-stuck'>;
    const counts = (await (cleanupStuck.handler(ctx) as Promise<unknown>)) as Record<string, number>;
    assert.deepEqual(Object.keys(counts).sort(), [
      'blobsPurged',
      'failedStuck',
      'jobsPurged',
      'locksReleased',
      'lostRequeued',
      'notificationsPurged',
      'reEnqueued',
      'runsPurged',
    ]);
    assert.equal(counts.runsPurged, 0, 'a run of today is kept');
    // Claiming again: a finished occurrence is never run twice; a failed one may be retried.
    assert.equal(await store.runs.begin({ job: 'cleanup-stuck', occurrence: 'old', worker: 'w2', staleBefore: new Date() }), false);
    await store.runs.begin({ job: 'x', occurrence: 'o', worker: 'w', staleBefore: new Date(0) });
    assert.equal(await store.runs.begin({ job: 'x', occurrence: 'o', worker: 'w2', staleBefore: new Date(0) }), false, 'a live run is not taken over');
    await store.runs.finish('x', 'o', { status: 'failed', error: 'boom' });
    assert.equal(await store.runs.begin({ job: 'x', occurrence: 'o', worker: 'w2', staleBefore: new Date(0) }), true, 'a failed run is retried');
  });
}
