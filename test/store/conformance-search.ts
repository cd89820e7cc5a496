import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import type { Store } from '../../src/store/types.js';
import { randomName } from '../helpers/env.js';

/** listFiles' console filters: upload time window and filename search (case-insensitive, literal). */
export function fileSearchConformance(stores: () => { store: Store }): void {
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
}
