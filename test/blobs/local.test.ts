import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';

import { LocalBlobStore } from '../../src/blobs/local.js';
import { errorCode, ErrorCodes } from '../../src/errors.js';
import { createTempDir } from '../helpers/env.js';
import { blobStoreConformance, HOSTILE_KEYS } from './conformance.js';

/** Every file under dir, relative, including the temp and sidecar files the store hides. */
async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

blobStoreConformance('local directory', {
  async open() {
    const tmp = await createTempDir('nightshift-blobs-');
    const store = await LocalBlobStore.open({ dir: join(tmp.dir, 'blobs') });
    return { store, cleanup: tmp.remove };
  },
  async leftovers(store) {
    return (await allFiles((store as LocalBlobStore).root)).filter((f) => f.endsWith('.part'));
  },
});

describe('LocalBlobStore on disk', () => {
  let tmp: { dir: string; remove(): Promise<void> };
  let store: LocalBlobStore;
  before(async () => {
    tmp = await createTempDir('nightshift-blobs-');
    store = await LocalBlobStore.open({ dir: join(tmp.dir, 'nested', 'blobs'), fsync: false });
  });
  after(async () => {
    await store.close();
    await tmp.remove();
  });

  test('creates its root and stores a key as the file of the same path', async () => {
    await store.put('orig/ab/cd.jpg', Buffer.from('jpeg'), { contentType: 'image/jpeg' });
    assert.equal(await readFile(join(store.root, 'orig', 'ab', 'cd.jpg'), 'utf8'), 'jpeg');
    // The content type is a sidecar that list() does not report as a blob.
    assert.deepEqual(await allFiles(join(store.root, 'orig')), ['ab/cd.jpg', 'ab/cd.jpg~type']);
    const listed = [];
    for await (const info of store.list('orig/')) listed.push(info.key);
    assert.deepEqual(listed, ['orig/ab/cd.jpg']);
  });

  test('putting without a content type drops a stale one', async () => {
    await store.put('ct/x', Buffer.from('1'), { contentType: 'text/plain' });
    await store.put('ct/x', Buffer.from('2'));
    assert.equal((await store.head('ct/x'))?.contentType, undefined);
    assert.deepEqual(await allFiles(join(store.root, 'ct')), ['x']);
  });

  test('hostile keys create nothing outside (or inside) the root', async () => {
    for (const key of HOSTILE_KEYS) await store.put(key, Buffer.from('x')).catch(() => undefined);
    assert.deepEqual(await readdir(tmp.dir), ['nested']);
    assert.deepEqual(await readdir(join(tmp.dir, 'nested')), ['blobs']);
  });

  test('delete removes the sidecar and prunes directories it leaves empty, not the root', async () => {
    await store.put('prune/a/b/c', Buffer.from('c'), { contentType: 'text/plain' });
    await store.put('prune/keep', Buffer.from('k'));
    await store.delete('prune/a/b/c');
    assert.deepEqual(await readdir(join(store.root, 'prune')), ['keep']);
    await store.delete('prune/keep');
    assert.equal((await readdir(store.root)).includes('prune'), false);
    assert.deepEqual(await readdir(tmp.dir), ['nested']);
  });

  test('a key that is a directory of other blobs is not a blob', async () => {
    await store.put('dir/child', Buffer.from('c'));
    assert.equal(await store.head('dir'), null);
    await assert.rejects(store.get('dir'), (err) => errorCode(err) === ErrorCodes.BLOB_NOT_FOUND);
    await store.delete('dir');
    assert.ok(await store.head('dir/child'));
  });

  test('a key that would need a blob to be a directory is rejected with INVALID_KEY 409', async () => {
    await store.put('clash/file', Buffer.from('f'));
    for (const [key, body] of [
      ['clash/file/under', Buffer.from('u')],
      ['clash/file/under', Readable.from([Buffer.from('u')])],
    ] as const) {
      await assert.rejects(store.put(key, body), (err: unknown) => {
        assert.equal(errorCode(err), ErrorCodes.INVALID_KEY);
        assert.equal((err as { status?: number }).status, 409);
        return true;
      });
    }
    await store.put('clash/dir/x', Buffer.from('x'));
    await assert.rejects(store.put('clash/dir', Buffer.from('d')), (err) => errorCode(err) === ErrorCodes.INVALID_KEY);
    assert.deepEqual(
      (await allFiles(join(store.root, 'clash'))).filter((f) => f.endsWith('.part')),
      [],
    );
  });

  test('foreign files in the tree (no valid key name) are not listed', async () => {
    await mkdir(join(store.root, 'foreign'), { recursive: true });
    await writeFile(join(store.root, 'foreign', 'has space'), 'x');
    await writeFile(join(store.root, 'foreign', 'ok'), 'x');
    await symlink('/etc/hostname', join(store.root, 'foreign', 'link'));
    const keys = [];
    for await (const info of store.list('foreign/')) keys.push(info.key);
    assert.deepEqual(keys, ['foreign/ok']);
  });

  test('ping fails with STORE_UNAVAILABLE when the root is gone', async () => {
    const gone = await LocalBlobStore.open({ dir: join(tmp.dir, 'gone') });
    await tmp.remove().then(() => mkdir(tmp.dir));
    await assert.rejects(gone.ping(), (err) => errorCode(err) === ErrorCodes.STORE_UNAVAILABLE);
  });
});
