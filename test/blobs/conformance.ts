import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';

import type { BlobInfo, BlobStore } from '../../src/blobs/types.js';
import { errorCode, ErrorCodes } from '../../src/errors.js';

export interface ConformanceTarget {
  /** A fresh, empty store, and how to dispose of whatever backs it. */
  open(): Promise<{ store: BlobStore; cleanup(): Promise<void> }>;
  /**
   * Artifacts of unfinished writes the backend can see but the BlobStore API hides (temp files,
   * pending multipart uploads). Asserted empty after failed and aborted puts. Omit if not observable.
   */
  leftovers?(store: BlobStore): Promise<string[]>;
}

const MiB = 1024 * 1024;

/** Keys that must be refused by every method, whatever the backend. */
export const HOSTILE_KEYS: readonly string[] = [
  '',
  '.',
  '..',
  '../escape',
  'a/../../escape',
  'a/./b',
  '/etc/passwd',
  'a//b',
  'a/',
  'a\\b',
  '..\\escape',
  'a\u0000b',
  'a\nb',
  'a\u007fb',
  'a b',
  'caf\u00e9',
  'a/b?c',
  'a%2F..%2Fb',
  'x'.repeat(2000),
];

/** A stream of `total` random bytes in 1 MiB chunks, and the sha256 the reader should see. */
function randomStream(total: number): { stream: Readable; digest: Promise<string> } {
  const hash = createHash('sha256');
  let resolveDigest: (d: string) => void = () => undefined;
  const digest = new Promise<string>((r) => (resolveDigest = r));
  async function* chunks() {
    for (let sent = 0; sent < total; sent += MiB) {
      const chunk = randomBytes(Math.min(MiB, total - sent));
      hash.update(chunk);
      yield chunk;
    }
    resolveDigest(hash.digest('hex'));
  }
  return { stream: Readable.from(chunks()), digest };
}

/** 1 MiB chunks up to `limit`; calls `at(sentBytes)` before each chunk so a test can act mid-stream. */
function steppedStream(limit: number, at: (sent: number) => void): Readable {
  async function* chunks() {
    for (let sent = 0; sent < limit; sent += MiB) {
      at(sent);
      // Yield to the event loop so the consumer and an abort really interleave with the producer.
      await new Promise((r) => setImmediate(r));
      yield Buffer.alloc(MiB, 7);
    }
  }
  return Readable.from(chunks());
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(parts);
}

async function sha256(stream: Readable): Promise<{ hex: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    hash.update(buf);
    size += buf.length;
  }
  return { hex: hash.digest('hex'), size };
}

async function collect(iterable: AsyncIterable<BlobInfo>): Promise<BlobInfo[]> {
  const out: BlobInfo[] = [];
  for await (const info of iterable) out.push(info);
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

async function rejectsWith(promise: Promise<unknown>, code: string, label: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.equal(errorCode(err), code, `${label}: expected ${code}, got ${String(err)}`);
    return true;
  });
}

/** The BlobStore contract, run against one implementation. */
export function blobStoreConformance(name: string, target: ConformanceTarget, options: { skip?: string | false } = {}): void {
  describe(`BlobStore conformance: ${name}`, { skip: options.skip ?? false }, () => {
    let store: BlobStore;
    let cleanup: () => Promise<void> = async () => undefined;

    before(async () => {
      ({ store, cleanup } = await target.open());
    });
    after(async () => {
      await store?.close();
      await cleanup();
    });

    async function assertNoLeftovers(label: string): Promise<void> {
      if (target.leftovers) assert.deepEqual(await target.leftovers(store), [], `${label}: unfinished-write artifacts remain`);
    }

    test('ping succeeds on reachable storage', async () => {
      await store.ping();
    });

    test('a multi-MB stream round-trips byte for byte', async () => {
      const total = 12 * MiB + 12345; // spans several S3 parts and ends mid-part
      const { stream, digest } = randomStream(total);
      const { size } = await store.put('rt/big.bin', stream, { contentType: 'application/octet-stream' });
      assert.equal(size, total);
      const read = await sha256(await store.get('rt/big.bin'));
      assert.equal(read.size, total);
      assert.equal(read.hex, await digest);
      assert.equal((await store.head('rt/big.bin'))?.size, total);
    });

    test('put of a Buffer, head reports size, content type and a recent mtime', async () => {
      const startedAt = Date.now();
      const body = Buffer.from('{"hello":"world"}');
      assert.deepEqual(await store.put('rt/small.json', body, { contentType: 'application/json' }), { size: body.length });
      const info = await store.head('rt/small.json');
      assert.ok(info);
      assert.equal(info.key, 'rt/small.json');
      assert.equal(info.size, body.length);
      assert.equal(info.contentType, 'application/json');
      assert.ok(info.lastModified instanceof Date);
      // Second-resolution clocks (S3 Last-Modified) round down, hence the slack.
      assert.ok(Math.abs(info.lastModified.getTime() - startedAt) < 60_000, `lastModified ${info.lastModified.toISOString()}`);
      assert.deepEqual(await readAll(await store.get('rt/small.json')), body);
    });

    test('empty blobs are stored and read back', async () => {
      assert.deepEqual(await store.put('rt/empty', Buffer.alloc(0)), { size: 0 });
      assert.equal((await store.head('rt/empty'))?.size, 0);
      assert.equal((await readAll(await store.get('rt/empty'))).length, 0);
      assert.deepEqual(await store.put('rt/empty-stream', Readable.from([])), { size: 0 });
      assert.equal((await store.head('rt/empty-stream'))?.size, 0);
    });

    test('get with firstBytes reads only the start of a blob, and all of a shorter one', async () => {
      const body = randomBytes(100_000);
      await store.put('rt/head.bin', body);
      assert.deepEqual(await readAll(await store.get('rt/head.bin', { firstBytes: 4100 })), body.subarray(0, 4100));
      assert.deepEqual(await readAll(await store.get('rt/head.bin', { firstBytes: 200_000 })), body);
      await rejectsWith(store.get('missing/head', { firstBytes: 10 }), ErrorCodes.BLOB_NOT_FOUND, 'ranged get of a missing blob');
    });

    test('put replaces an existing blob', async () => {
      await store.put('rt/replace.txt', Buffer.from('first version'), { contentType: 'text/plain' });
      await store.put('rt/replace.txt', Readable.from([Buffer.from('second')]), { contentType: 'text/markdown' });
      assert.equal((await readAll(await store.get('rt/replace.txt'))).toString(), 'second');
      const info = await store.head('rt/replace.txt');
      assert.equal(info?.size, 6);
      assert.equal(info?.contentType, 'text/markdown');
    });

    test('a missing key: head is null, get rejects BLOB_NOT_FOUND, delete is a no-op', async () => {
      assert.equal(await store.head('missing/nothing-here'), null);
      await rejectsWith(store.get('missing/nothing-here'), ErrorCodes.BLOB_NOT_FOUND, 'get missing');
      await store.delete('missing/nothing-here');
    });

    test('delete removes the blob and leaves its neighbours', async () => {
      await store.put('del/a', Buffer.from('a'));
      await store.put('del/b', Buffer.from('b'));
      await store.delete('del/a');
      assert.equal(await store.head('del/a'), null);
      await rejectsWith(store.get('del/a'), ErrorCodes.BLOB_NOT_FOUND, 'get deleted');
      assert.equal((await readAll(await store.get('del/b'))).toString(), 'b');
      await store.delete('del/a');
      assert.deepEqual(
        (await collect(store.list('del/'))).map((b) => b.key),
        ['del/b'],
      );
    });

    test('list returns exactly the blobs under a prefix, with sizes', async () => {
      const blobs: Record<string, string> = {
        'ls/a/1': 'one',
        'ls/a/2.txt': 'two!',
        'ls/ab/3': 'three',
        'ls/b/deep/er/4': 'four',
        'lsx/5': 'five',
      };
      for (const [key, value] of Object.entries(blobs)) await store.put(key, Buffer.from(value), { contentType: 'text/plain' });
      const keys = async (prefix: string) => (await collect(store.list(prefix))).map((b) => b.key);
      assert.deepEqual(await keys('ls/a/'), ['ls/a/1', 'ls/a/2.txt']);
      assert.deepEqual(await keys('ls/a'), ['ls/a/1', 'ls/a/2.txt', 'ls/ab/3']);
      assert.deepEqual(await keys('ls/'), ['ls/a/1', 'ls/a/2.txt', 'ls/ab/3', 'ls/b/deep/er/4']);
      assert.deepEqual(await keys('ls'), ['ls/a/1', 'ls/a/2.txt', 'ls/ab/3', 'ls/b/deep/er/4', 'lsx/5']);
      assert.deepEqual(await keys('ls/b/deep/er/4'), ['ls/b/deep/er/4']);
      assert.deepEqual(await keys('ls/none/'), []);
      assert.deepEqual(await keys('nothing-at-all'), []);
      const all = await collect(store.list(''));
      assert.ok(all.some((b) => b.key === 'lsx/5'));
      for (const info of await collect(store.list('ls/'))) {
        assert.equal(info.size, Buffer.byteLength(blobs[info.key] ?? ''), info.key);
        assert.ok(info.lastModified instanceof Date);
      }
    });

    test('hostile keys are rejected with INVALID_KEY by every method', async () => {
      for (const key of HOSTILE_KEYS) {
        const label = JSON.stringify(key.length > 40 ? key.slice(0, 40) + '…' : key);
        await rejectsWith(store.put(key, Buffer.from('x')), ErrorCodes.INVALID_KEY, `put ${label}`);
        await rejectsWith(store.put(key, Readable.from([Buffer.from('x')])), ErrorCodes.INVALID_KEY, `put stream ${label}`);
        await rejectsWith(store.get(key), ErrorCodes.INVALID_KEY, `get ${label}`);
        await rejectsWith(store.head(key), ErrorCodes.INVALID_KEY, `head ${label}`);
        await rejectsWith(store.delete(key), ErrorCodes.INVALID_KEY, `delete ${label}`);
      }
      for (const prefix of ['../', '/abs', 'a//', 'a/../b', 'a\\', 'a\u0000']) {
        await rejectsWith(collect(store.list(prefix)), ErrorCodes.INVALID_KEY, `list ${JSON.stringify(prefix)}`);
      }
    });

    test('a put aborted mid-stream rejects ABORTED and leaves nothing behind', async () => {
      const controller = new AbortController();
      // Abort after 6 MiB: past the first 5 MiB S3 part, so a multipart upload is under way.
      const body = steppedStream(64 * MiB, (sent) => sent === 6 * MiB && controller.abort());
      await rejectsWith(store.put('abort/mid', body, { signal: controller.signal }), ErrorCodes.ABORTED, 'aborted put');
      assert.equal(await store.head('abort/mid'), null);
      assert.deepEqual(await collect(store.list('abort/')), []);
      await assertNoLeftovers('aborted mid-stream');
    });

    test('a put aborted early (single-part size) leaves nothing behind', async () => {
      const controller = new AbortController();
      const body = steppedStream(64 * MiB, (sent) => sent === MiB && controller.abort());
      await rejectsWith(store.put('abort/early', body, { signal: controller.signal }), ErrorCodes.ABORTED, 'aborted early');
      assert.equal(await store.head('abort/early'), null);
      await assertNoLeftovers('aborted early');
    });

    test('a put with an already-aborted signal writes nothing', async () => {
      const signal = AbortSignal.abort();
      await rejectsWith(store.put('abort/pre', Buffer.from('never'), { signal }), ErrorCodes.ABORTED, 'pre-aborted buffer');
      await rejectsWith(store.put('abort/pre', Readable.from([Buffer.from('never')]), { signal }), ErrorCodes.ABORTED, 'pre-aborted stream');
      assert.equal(await store.head('abort/pre'), null);
    });

    test('an aborted overwrite keeps the previous blob intact', async () => {
      await store.put('abort/keep', Buffer.from('original'), { contentType: 'text/plain' });
      const controller = new AbortController();
      const body = steppedStream(64 * MiB, (sent) => sent === 3 * MiB && controller.abort());
      await rejectsWith(store.put('abort/keep', body, { signal: controller.signal }), ErrorCodes.ABORTED, 'aborted overwrite');
      assert.equal((await readAll(await store.get('abort/keep'))).toString(), 'original');
      assert.equal((await store.head('abort/keep'))?.size, 8);
      await assertNoLeftovers('aborted overwrite');
    });

    test('a body that fails mid-stream rejects with its error and leaves nothing behind', async () => {
      const failing = steppedStream(64 * MiB, (sent) => {
        if (sent === 6 * MiB) throw new Error('source went away');
      });
      await assert.rejects(store.put('fail/body', failing), /source went away/);
      assert.equal(await store.head('fail/body'), null);
      await assertNoLeftovers('failed body');
    });

    test('concurrent puts to different keys all land', async () => {
      const keys = Array.from({ length: 8 }, (_, i) => `conc/${i}`);
      await Promise.all(keys.map((key, i) => store.put(key, Readable.from([Buffer.alloc(1000 + i, i)]))));
      const listed = await collect(store.list('conc/'));
      assert.deepEqual(
        listed.map((b) => [b.key, b.size]),
        keys.map((key, i) => [key, 1000 + i]),
      );
    });
  });
}
