import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import type { Store } from '../../src/store/types.js';
import { randomName } from '../helpers/env.js';

/** What the console reads and does: listFiles' upload-time window and filename search, reopening a failed step. */
export function consoleConformance(stores: () => { store: Store }): void {
  test('listFiles filters by upload time and by a filename substring, case-insensitively and literally', async () => {
    const { store } = stores();
    const owner = randomName('searcher');
    const make = (filename: string) => {
      const id = randomUUID();
      return store.createFile({ id, owner, filename, contentType: 'image/jpeg', size: 1, blobKey: `originals/${id}` });
    };
    const early = await make('Holiday_Beach.JPG');
    await sleep(5);
    const middle = await make('receipt 100%.png');
    await sleep(5);
    const late = await make('holidayXbeach.jpg');
    const names = async (q: Parameters<Store['listFiles']>[0]) => (await store.listFiles(q)).items.map((f) => f.filename);

    assert.deepEqual(await names({ owner, filenameContains: 'HOLIDAY', limit: 10 }), ['holidayXbeach.jpg', 'Holiday_Beach.JPG']);
    // `_` and `%` are letters here, not wildcards.
    assert.deepEqual(await names({ owner, filenameContains: 'y_b', limit: 10 }), ['Holiday_Beach.JPG']);
    assert.deepEqual(await names({ owner, filenameContains: '100%', limit: 10 }), ['receipt 100%.png']);
    assert.deepEqual(await names({ owner, filenameContains: '.*', limit: 10 }), []);
    assert.deepEqual(await names({ owner, uploadedAfter: middle.uploadedAt, limit: 10 }), ['holidayXbeach.jpg', 'receipt 100%.png']);
    assert.deepEqual(await names({ owner, uploadedBefore: middle.uploadedAt, limit: 10 }), ['Holiday_Beach.JPG']);
    assert.deepEqual(await names({ owner, uploadedAfter: early.uploadedAt, uploadedBefore: late.uploadedAt, filenameContains: 'beach', limit: 10 }), [
      'Holiday_Beach.JPG',
    ]);
  });

  test('reopenStep: a failed step of a failed file goes back to pending and the file to processing; nothing else is reopened', async () => {
    const { store } = stores();
    const id = randomUUID();
    await store.createFile({ id, owner: null, filename: 'x.jpg', contentType: 'image/jpeg', size: 1, blobKey: `originals/${id}` });
    await store.startProcessing(id, 'image/jpeg', [
      { name: 'analyze', status: 'pending' },
      { name: 'thumbnail', status: 'pending' },
    ]);
    assert.equal(await store.reopenStep(id, 'analyze'), false, 'not while processing');
    await store.startStep(id, 'analyze');
    await store.finishStep(id, 'analyze', { status: 'failed', durationMs: 5, error: 'broken' });
    await store.startStep(id, 'thumbnail');
    await store.finishStep(id, 'thumbnail', { status: 'completed', durationMs: 5, result: { thumbnailKey: 'k' } });
    const failed = await store.finalizeFile(id);
    assert.equal(failed?.status, 'failed');
    assert.equal(await store.reopenStep(id, 'thumbnail'), false, 'a completed step is not reopened');

    assert.equal(await store.reopenStep(id, 'analyze'), true);
    const reopened = await store.getFile(id);
    assert.equal(reopened?.status, 'processing');
    assert.equal(reopened?.error, null);
    assert.equal(reopened?.completedAt, null);
    const analyze = reopened?.steps.find((s) => s.name === 'analyze');
    assert.deepEqual([analyze?.status, analyze?.attempts, analyze?.error], ['pending', 1, null]);
    assert.equal(reopened?.steps.find((s) => s.name === 'thumbnail')?.status, 'completed');
    assert.equal(await store.reopenStep(id, 'analyze'), false, 'only once');

    await store.startStep(id, 'analyze');
    await store.finishStep(id, 'analyze', { status: 'failed', durationMs: 5, error: 'still broken' });
    const settled = await store.finalizeFile(id);
    assert.equal(settled?.status, 'failed');
    assert.equal(settled?.error, 'analyze: still broken');
    assert.equal(await store.reopenStep(randomUUID(), 'analyze'), false);
  });
}
