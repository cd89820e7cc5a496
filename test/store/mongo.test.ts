import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';

import { MongoClient } from 'mongodb';

import { createLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/index.js';
import { digestKeyOf, notificationId } from '../../src/store/outbox-keys.js';
import type { OutboxEntry } from '../../src/store/outbox-types.js';
import { SKIP_NO_MONGODB, tempMongoUrl } from '../helpers/env.js';
import { runStoreConformance } from './conformance.js';
import { seedMongoFiles, STEP_ORDER } from './seed.js';

const log = createLogger(process.env.LOG_LEVEL ?? 'silent');

runStoreConformance(
  'mongodb',
  async () => {
    const url = tempMongoUrl();
    return {
      open: () => createStore({ kind: 'mongodb', url }, { log, stepOrder: STEP_ORDER }),
      async seedFiles(files) {
        const client = new MongoClient(url);
        try {
          await seedMongoFiles(client.db(), files);
        } finally {
          await client.close();
        }
      },
      async cleanup() {
        const client = new MongoClient(url);
        try {
          await client.db().dropDatabase();
        } finally {
          await client.close();
        }
      },
    };
  },
  { skip: SKIP_NO_MONGODB },
);

// The MongoDB side of the transactional outbox: entries a crash left on the file document
// (committed with its status by the same update) are materialized once, however often swept.
describe('mongodb: pending outbox entries left by a crash', { skip: SKIP_NO_MONGODB }, () => {
  test('materializeOutbox writes them once (rows and digest items), then drops them from the file', async () => {
    const url = tempMongoUrl();
    const store = await createStore({ kind: 'mongodb', url }, { log, stepOrder: STEP_ORDER });
    const client = new MongoClient(url);
    try {
      await store.migrate();
      const file = await store.createFile({ id: randomUUID(), owner: 'ann', filename: 'a.txt', contentType: 'text/plain', size: 1, blobKey: 'originals/a' });
      const key = `file.failed|${file.id}@0|console|owner:ann`;
      const digestKey = digestKeyOf('file.stuck', 'console', 'admin');
      const dkey = `${digestKey}|file.stuck|${file.id}:analyze@0|console|admin`;
      const base = {
        event: 'file.failed',
        channel: 'console',
        recipient: 'owner:ann',
        owner: 'ann',
        message: { title: 'a.txt failed' },
        notBefore: new Date(),
      };
      const entries: OutboxEntry[] = [
        { kind: 'row', row: { ...base, id: notificationId(key), key } },
        {
          kind: 'digest',
          digestKey,
          item: { title: 'a.txt' },
          create: {
            ...base,
            event: 'file.stuck',
            recipient: 'admin',
            id: notificationId(dkey),
            key: dkey,
            digestKey,
            message: { title: 'stuck', items: [{ title: 'a.txt' }] },
          },
        },
      ];
      // As failFile's single update leaves it when the process dies before materializing.
      await client
        .db()
        .collection<{ _id: string }>('files')
        .updateOne({ _id: file.id }, { $set: { status: 'failed', error: 'x' }, $push: { pendingOutbox: { token: randomUUID(), entries } } as never });
      const first = await store.materializeOutbox(100);
      assert.deepEqual(first.map((r) => r.id).sort(), [notificationId(key), notificationId(dkey)].sort());
      assert.deepEqual(await store.materializeOutbox(100), [], 'nothing left pending');
      // Swept again from a stale copy (two sweepers at once): still one row, one digest item.
      await store.outbox.write(entries);
      const digest = await store.outbox.get(notificationId(dkey));
      assert.deepEqual(digest?.message.items, [{ title: 'a.txt' }]);
      assert.equal((await store.outbox.list({ owner: 'ann', limit: 10 })).items.length, 2);
    } finally {
      await client.db().dropDatabase();
      await client.close();
      await store.close();
    }
  });
});
