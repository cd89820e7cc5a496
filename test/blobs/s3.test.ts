import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { S3BlobStore } from '../../src/blobs/s3.js';
import { errorCode, ErrorCodes } from '../../src/errors.js';
import { blobStoreConformance } from './conformance.js';
import { startS3Server, type TestS3Server } from './s3-server.js';

// One real S3-protocol server (s3rver on loopback) for this file; each suite gets its own bucket.
let server: TestS3Server | undefined;
before(async () => {
  server = await startS3Server();
});
after(async () => {
  await server?.stop();
});
function s3(): TestS3Server {
  if (!server) throw new Error('the S3 server did not start');
  return server;
}

blobStoreConformance('S3 (s3rver, no key prefix)', {
  async open() {
    return { store: new S3BlobStore(await s3().storage()), cleanup: async () => undefined };
  },
});

blobStoreConformance('S3 (s3rver, key prefix "tenant/a/")', {
  async open() {
    return { store: new S3BlobStore(await s3().storage('tenant/a/')), cleanup: async () => undefined };
  },
});

describe('S3BlobStore specifics', () => {
  let s: TestS3Server;
  before(() => {
    s = s3();
  });

  test('the key prefix is applied on the wire and stripped from listings', async () => {
    const storage = await s.storage('pre/fix/');
    const prefixed = new S3BlobStore(storage);
    const bare = new S3BlobStore({ ...storage, prefix: '' });
    try {
      await prefixed.put('k/1', Buffer.from('one'));
      assert.ok(await bare.head('pre/fix/k/1'));
      assert.equal(await bare.head('k/1'), null);
      const keys = [];
      for await (const info of prefixed.list('')) keys.push(info.key);
      assert.deepEqual(keys, ['k/1']);
    } finally {
      await prefixed.close();
      await bare.close();
    }
  });

  test('ping fails with STORE_UNAVAILABLE for a missing bucket and an unreachable endpoint', async () => {
    const storage = await s.storage();
    const missing = new S3BlobStore({ ...storage, bucket: 'no-such-bucket-here' });
    const unreachable = new S3BlobStore({ ...storage, endpoint: 'http://127.0.0.1:9' }, { maxAttempts: 1 });
    try {
      await assert.rejects(missing.ping(), (err) => errorCode(err) === ErrorCodes.STORE_UNAVAILABLE);
      await assert.rejects(unreachable.ping(), (err) => errorCode(err) === ErrorCodes.STORE_UNAVAILABLE);
    } finally {
      await missing.close();
      await unreachable.close();
    }
  });

  test('half-configured credentials are a config error', () => {
    assert.throws(
      () =>
        new S3BlobStore({
          kind: 's3',
          bucket: 'b',
          prefix: '',
          endpoint: undefined,
          forcePathStyle: false,
          region: 'us-east-1',
          accessKeyId: 'AKIA',
          secretAccessKey: undefined,
        }),
      (err) => errorCode(err) === ErrorCodes.CONFIG_INVALID,
    );
  });
});
