import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { loadConfig } from '../../src/registry.js';
import { createTempDir } from '../helpers/env.js';
import { textImage } from '../helpers/images.js';
import { getFile, startTestService, upload } from '../helpers/service.js';

type Started = Awaited<ReturnType<typeof startTestService>>;
const TOKEN = 'test-token-0123456789abcdef';

describe('HTTP API (api role, SQLite)', () => {
  let svc: Started;
  let tmp: Awaited<ReturnType<typeof createTempDir>>;
  const auth = { authorization: `Bearer ${TOKEN}` };

  before(async () => {
    tmp = await createTempDir();
    // api role: nothing processes, so files stay where the test puts them.
    svc = await startTestService({ DATA_DIR: tmp.dir, API_TOKEN: TOKEN, MAX_UPLOAD_BYTES: '100000' }, 'api');
  });
  after(async () => {
    await svc?.stop();
    await tmp?.remove();
  });

  test('health and readiness need no token', async () => {
    assert.equal((await fetch(`${svc.url}/healthz`)).status, 200);
    const ready = await fetch(`${svc.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', store: 'ok', blobs: 'ok', disk: 'ok' });
  });

  test('the API and the dashboard answer 401 without the token', async () => {
    const api = await fetch(`${svc.url}/api/v1/files`);
    assert.equal(api.status, 401);
    assert.equal(((await api.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
    assert.equal((await fetch(`${svc.url}/api/v1/files`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status, 401);
    assert.equal((await fetch(`${svc.url}/dash/`)).status, 401);
    assert.equal((await fetch(`${svc.url}/api/v1/files`, { headers: auth })).status, 200);
    const basic = `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`;
    const dash = await fetch(`${svc.url}/dash/`, { headers: { authorization: basic } });
    assert.equal(dash.status, 200);
    assert.match(await dash.text(), /<html/i);
    assert.equal((await fetch(`${svc.url}/dash/api?limit=5`, { headers: auth })).status, 200);
  });

  test('an upload is stored and answered 202; one past MAX_UPLOAD_BYTES is 413 and leaves nothing', async () => {
    const up = await upload(svc.url, await textImage(['HELLO']), 'hello.png', { owner: 'bob', token: TOKEN });
    assert.equal(up.status, 202);
    assert.equal(up.body.status, 'uploaded');
    assert.equal(up.body.owner, 'bob');
    assert.ok(up.body.size > 0);
    assert.ok(await svc.blobs.head(`originals/${up.body.id}`));

    const big = await upload(svc.url, Buffer.alloc(200_000, 1), 'big.bin', { token: TOKEN });
    assert.equal(big.status, 413);
    assert.equal((big.body as unknown as { error: { code: string } }).error.code, 'UPLOAD_TOO_LARGE');
    const all = [];
    for await (const b of svc.blobs.list('originals/')) all.push(b.key);
    assert.deepEqual(all, [`originals/${up.body.id}`]);
  });

  test('a request without a file field is a 400 naming the field', async () => {
    const form = new FormData();
    form.append('owner', 'x');
    const res = await fetch(`${svc.url}/api/v1/files`, { method: 'POST', body: form, headers: auth });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /"file"/);
  });

  test('listing pages through files with filters; unknown ids are 404', async () => {
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await upload(svc.url, Buffer.from(`note ${i}`), `n${i}.txt`, { owner: 'pager', token: TOKEN })).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `owner=pager&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = (await (await fetch(`${svc.url}/api/v1/files?${q}`, { headers: auth })).json()) as { items: { id: string }[]; nextCursor: string | null };
      seen.push(...page.items.map((f) => f.id));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual([...seen].sort(), [...ids].sort());
    assert.equal((await fetch(`${svc.url}/api/v1/files/nope`, { headers: auth })).status, 404);
    assert.equal((await fetch(`${svc.url}/api/v1/files?status=bogus`, { headers: auth })).status, 400);
  });

  test('reprocess is 409 while the file is queued, 202 once it has failed, and 409 while it is processing', async () => {
    const up = await upload(svc.url, Buffer.from('abc'), 'a.txt', { token: TOKEN });
    const queued = await fetch(`${svc.url}/api/v1/files/${up.body.id}/reprocess`, { method: 'POST', headers: auth });
    assert.equal(queued.status, 409);
    assert.ok(await svc.store.failFile(up.body.id, 'test: failed'));
    const again = await fetch(`${svc.url}/api/v1/files/${up.body.id}/reprocess`, { method: 'POST', headers: auth });
    assert.equal(again.status, 202);
    assert.ok(await svc.store.startProcessing(up.body.id, 'text/plain', [{ name: 'analyze', status: 'pending' }]));
    const busy = await fetch(`${svc.url}/api/v1/files/${up.body.id}/reprocess`, { method: 'POST', headers: auth });
    assert.equal(busy.status, 409);
    assert.equal((await getFile(svc.url, up.body.id, TOKEN)).status, 'processing');
  });
});

describe('configuration', () => {
  test('a bad value stops start-up with a message naming the key', () => {
    assert.throws(
      () => loadConfig({ PORT: 'eighty' }),
      (err: Error & { code?: string }) => err.code === 'CONFIG_INVALID' && /PORT/.test(err.message),
    );
    assert.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL/);
    assert.throws(() => loadConfig({ STORAGE_URL: 's3://' }), /STORAGE_URL/);
    assert.throws(() => loadConfig({ API_TOKEN: 'short' }), /API_TOKEN/);
  });

  test('defaults give the embedded store and local blobs, frozen', () => {
    const c = loadConfig({ DATA_DIR: '/tmp/ns-x' });
    assert.deepEqual(c.database, { kind: 'sqlite', path: '/tmp/ns-x/nightshift.db' });
    assert.deepEqual(c.storage, { kind: 'local', dir: '/tmp/ns-x/blobs' });
    assert.equal(c.port, 3000);
    assert.equal(c.host, '127.0.0.1');
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.database));
    const s3 = loadConfig({ STORAGE_URL: 's3://my-bucket/uploads', S3_FORCE_PATH_STYLE: 'true' });
    assert.equal(s3.storage.kind, 's3');
    if (s3.storage.kind === 's3') {
      assert.equal(s3.storage.bucket, 'my-bucket');
      assert.equal(s3.storage.prefix, 'uploads/');
      assert.equal(s3.storage.forcePathStyle, true);
    }
  });

  test('without API_TOKEN the server refuses to bind beyond loopback', async () => {
    const tmp = await createTempDir();
    try {
      await assert.rejects(
        startTestService({ DATA_DIR: tmp.dir, HOST: '0.0.0.0' }, 'api'),
        (err: Error & { code?: string }) => err.code === 'CONFIG_INVALID' && /API_TOKEN/.test(err.message),
      );
    } finally {
      await tmp.remove();
    }
  });
});
