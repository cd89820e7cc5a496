import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import BetterSqlite3 from 'better-sqlite3';

import { thumbnailKey } from '../../src/blobs/keys.js';
import { createTempDir, createTempPgDatabase, filesUnder, SKIP_NO_POSTGRES } from '../helpers/env.js';
import { type ApiFile, startTestService, upload } from '../helpers/service.js';

type Started = Awaited<ReturnType<typeof startTestService>>;
type ErrorBody = { error: { code: string; message: string } };

describe('files API (api role, SQLite)', () => {
  let svc: Started;
  let tmp: Awaited<ReturnType<typeof createTempDir>>;
  const api = (path: string) => `${svc.url}/api/v1${path}`;

  before(async () => {
    tmp = await createTempDir();
    svc = await startTestService({ DATA_DIR: tmp.dir, MAX_UPLOAD_BYTES: '100000', MAX_UPLOAD_FILES: '5' }, 'api');
  });
  after(async () => {
    await svc?.stop();
    await tmp?.remove();
  });

  /** A file taken through processing by hand (nothing processes in the api role). */
  async function finished(id: string, ocr: Record<string, unknown>): Promise<void> {
    assert.ok(
      await svc.store.startProcessing(id, 'image/png', [
        { name: 'thumbnail', status: 'pending' },
        { name: 'ocr', status: 'pending' },
      ]),
    );
    await svc.blobs.put(thumbnailKey(id), Buffer.from('webp'));
    await svc.store.startStep(id, 'thumbnail');
    await svc.store.finishStep(id, 'thumbnail', { status: 'completed', durationMs: 1, result: { thumbnailKey: thumbnailKey(id) } });
    await svc.store.startStep(id, 'ocr');
    await svc.store.finishStep(id, 'ocr', { status: 'completed', durationMs: 1, result: ocr });
    assert.equal((await svc.store.finalizeFile(id))?.status, 'completed');
  }

  test('deleting a file over quota removes its blobs and lets the next upload in at once', async () => {
    const put = await fetch(api('/owners/quota-owner'), {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ quotaBytes: 1000 }),
    });
    assert.equal(put.status, 200);
    const first = await upload(svc.url, Buffer.alloc(1500, 7), 'big.bin', { owner: 'quota-owner' });
    assert.equal(first.status, 202);
    await finished(first.body.id, { text: 'x', confidence: 90 });
    const refused = await upload(svc.url, Buffer.alloc(10, 1), 'next.bin', { owner: 'quota-owner' });
    assert.equal(refused.status, 507);
    assert.match((refused.body as unknown as ErrorBody).error.message, /DELETE/);

    const del = await fetch(api(`/files/${first.body.id}`), { method: 'DELETE' });
    assert.equal(del.status, 202);
    assert.deepEqual(await del.json(), { id: first.body.id, deleted: true });
    assert.equal(await svc.blobs.head(`originals/${first.body.id}`), null);
    assert.equal(await svc.blobs.head(thumbnailKey(first.body.id)), null);
    assert.equal((await fetch(api(`/files/${first.body.id}`))).status, 404);
    assert.equal((await fetch(api(`/files/${first.body.id}`), { method: 'DELETE' })).status, 404);

    const next = await upload(svc.url, Buffer.alloc(10, 1), 'next.bin', { owner: 'quota-owner' });
    assert.equal(next.status, 202);
  });

  test('a processing file is 409 to DELETE unless ?force=true, which cancels its queued jobs first', async () => {
    const up = await upload(svc.url, Buffer.from('busy'), 'busy.txt');
    assert.ok(await svc.store.startProcessing(up.body.id, 'text/plain', [{ name: 'ocr', status: 'pending' }]));
    await svc.engine.enqueue('ocr', { fileId: up.body.id });
    const busy = await fetch(api(`/files/${up.body.id}`), { method: 'DELETE' });
    assert.equal(busy.status, 409);
    assert.equal(((await busy.json()) as ErrorBody).error.code, 'FILE_BUSY');
    const forced = await fetch(api(`/files/${up.body.id}?force=true`), { method: 'DELETE' });
    assert.equal(forced.status, 202);
    assert.equal(await svc.store.getFile(up.body.id), null);
    assert.equal(await svc.blobs.head(`originals/${up.body.id}`), null);
    const left = await svc.engine.agenda.queryJobs({ data: { fileId: up.body.id } });
    assert.equal(left.total, 0);
  });

  test('the original downloads as an attachment with a safe name; the OCR text as text/plain', async () => {
    const bytes = Buffer.from('\x89PNG\r\n\x1a\n not really a png');
    const up = await upload(svc.url, bytes, 'Ünïcode "quote"; evil\r\n.png', { contentType: 'text/html' });
    assert.equal(up.status, 202);
    // Not sniffed yet: the uploader's declared type is never served.
    const early = await fetch(api(`/files/${up.body.id}/original`));
    assert.equal(early.headers.get('content-type'), 'application/octet-stream');
    await early.arrayBuffer();
    assert.equal((await fetch(api(`/files/${up.body.id}/text`))).status, 404);

    await finished(up.body.id, { text: 'HELLO WORLD', confidence: 91, words: [{ text: 'HELLO', confidence: 91, bbox: { x0: 1, y0: 2, x1: 3, y1: 4 } }] });
    const res = await fetch(api(`/files/${up.body.id}/original`));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const disposition = res.headers.get('content-disposition') ?? '';
    // One quoted ASCII name with nothing in it that could end it early, then the exact UTF-8 one.
    assert.match(disposition, /^attachment; filename="[\x20-\x21\x23-\x3a\x3c-\x5b\x5d-\x7e]+"; filename\*=UTF-8''[^\s"';]+$/);
    assert.match(disposition, /filename\*=UTF-8''%C3%9Cn%C3%AFcode/);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);

    const text = await fetch(api(`/files/${up.body.id}/text`));
    assert.equal(text.status, 200);
    assert.match(text.headers.get('content-type') ?? '', /^text\/plain; charset=utf-8/);
    assert.equal(await text.text(), 'HELLO WORLD');
  });

  test('the list is compact (no word boxes) unless ?include=words; the seed status path answers { id, status, steps, result }', async () => {
    const up = await upload(svc.url, Buffer.from('words'), 'w.png', { owner: 'lister' });
    const words = Array.from({ length: 50 }, (_, i) => ({ text: `w${i}`, confidence: 90, bbox: { x0: i, y0: i, x1: i + 1, y1: i + 1 } }));
    await finished(up.body.id, { text: 'w0 w1', confidence: 90, words });
    const compact = (await (await fetch(api('/files?owner=lister'))).json()) as { items: ApiFile[] };
    assert.equal(compact.items.length, 1);
    assert.equal(compact.items[0]?.result?.text, 'w0 w1');
    assert.equal(compact.items[0]?.result?.words, undefined);
    const full = (await (await fetch(api('/files?owner=lister&include=words'))).json()) as { items: ApiFile[] };
    assert.equal((full.items[0]?.result?.words as unknown[]).length, 50);
    assert.equal(((await (await fetch(api(`/files/${up.body.id}`))).json()) as ApiFile).result?.words, undefined);
    assert.equal(((await (await fetch(api(`/files/${up.body.id}?include=words`))).json()) as ApiFile).result?.words !== undefined, true);

    const status = await fetch(api(`/files/${up.body.id}/status`));
    assert.equal(status.status, 200);
    const body = (await status.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['id', 'status', 'steps', 'result']);
    assert.equal(body.status, 'completed');
    assert.equal((body.steps as Record<string, { status: string }>).ocr?.status, 'completed');
    assert.equal((await fetch(api('/files/nope/status'))).status, 404);
  });

  test('POST /files/upload is the same upload; several file parts make several files (207)', async () => {
    const one = new FormData();
    one.append('file', new Blob([Buffer.from('seed')]), 'seed.txt');
    const alias = await fetch(api('/files/upload'), { method: 'POST', body: one });
    assert.equal(alias.status, 202);
    assert.equal(((await alias.json()) as ApiFile).filename, 'seed.txt');

    const form = new FormData();
    form.append('owner', 'multi');
    for (const name of ['a.txt', 'b.txt', 'c.txt']) form.append('file', new Blob([Buffer.from(name)]), name);
    const res = await fetch(api('/files'), { method: 'POST', body: form });
    assert.equal(res.status, 207);
    const items = ((await res.json()) as { items: Array<{ status: number; file: ApiFile }> }).items;
    assert.deepEqual(
      items.map((i) => [i.status, i.file.filename, i.file.owner]),
      [
        [202, 'a.txt', 'multi'],
        [202, 'b.txt', 'multi'],
        [202, 'c.txt', 'multi'],
      ],
    );
    for (const i of items) assert.ok(await svc.blobs.head(`originals/${i.file.id}`));

    // All-or-nothing body: one part too many refuses the request and keeps none of its blobs.
    const before = (await filesUnder(join(tmp.dir, 'blobs'))).length;
    const tooMany = new FormData();
    for (let i = 0; i < 6; i++) tooMany.append('file', new Blob([Buffer.from(`f${i}`)]), `f${i}.txt`);
    const refused = await fetch(api('/files'), { method: 'POST', body: tooMany });
    assert.equal(refused.status, 413);
    assert.match(((await refused.json()) as ErrorBody).error.message, /MAX_UPLOAD_FILES/);
    assert.equal((await filesUnder(join(tmp.dir, 'blobs'))).length, before);
  });

  test('50 concurrent reprocess calls on one file start exactly one run: one 202, 49 × 409', async () => {
    const up = await upload(svc.url, Buffer.from('again'), 'again.png');
    await finished(up.body.id, { text: '', confidence: 0 });
    const statuses = await Promise.all(
      Array.from({ length: 50 }, () => fetch(api(`/files/${up.body.id}/reprocess`), { method: 'POST' }).then(async (r) => (await r.arrayBuffer(), r.status))),
    );
    assert.equal(statuses.filter((s) => s === 202).length, 1);
    assert.equal(statuses.filter((s) => s === 409).length, 49);
    const jobs = await svc.engine.agenda.queryJobs({ name: 'process-file', data: { fileId: up.body.id } });
    // The upload's own job and the one reprocess.
    assert.equal(jobs.total, 2);
  });

  test('a multipart request without a boundary is 400, not 500', async () => {
    const res = await fetch(api('/files'), { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'whatever' });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as ErrorBody).error.code, 'BAD_REQUEST');
    const broken = await fetch(api('/files'), {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=XyZ' },
      body: '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nno closing boundary',
    });
    assert.equal(broken.status, 400);
  });

  test('an upload whose record cannot be written leaves no blob', async () => {
    // A real failure of the real database: a trigger refuses the insert, as a full disk would.
    const db = new BetterSqlite3(join(tmp.dir, 'nightshift.db'));
    db.exec("CREATE TRIGGER refuse_files BEFORE INSERT ON files BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;");
    try {
      const before = await filesUnder(join(tmp.dir, 'blobs'));
      const res = await upload(svc.url, Buffer.alloc(5000, 3), 'lost.bin');
      assert.ok(res.status >= 500, `status ${res.status}`);
      assert.deepEqual(await filesUnder(join(tmp.dir, 'blobs')), before);

      const form = new FormData();
      for (const name of ['x.txt', 'y.txt']) form.append('file', new Blob([Buffer.from(name)]), name);
      const multi = await fetch(api('/files'), { method: 'POST', body: form });
      assert.equal(multi.status, 207);
      const items = ((await multi.json()) as { items: Array<{ status: number; error?: { code: string } }> }).items;
      assert.ok(items.every((i) => i.status >= 500 && i.error));
      assert.deepEqual(await filesUnder(join(tmp.dir, 'blobs')), before);
    } finally {
      db.exec('DROP TRIGGER refuse_files');
      db.close();
    }
  });
});

describe('files API on PostgreSQL (api role)', { skip: SKIP_NO_POSTGRES }, () => {
  let svc: Started;
  let tmp: Awaited<ReturnType<typeof createTempDir>>;
  let pg: Awaited<ReturnType<typeof createTempPgDatabase>>;

  before(async () => {
    tmp = await createTempDir();
    pg = await createTempPgDatabase();
    svc = await startTestService({ DATA_DIR: tmp.dir, DATABASE_URL: pg.url }, 'api');
  });
  after(async () => {
    await svc?.stop();
    await pg?.drop();
    await tmp?.remove();
  });

  test('50 concurrent reprocess calls: one 202, 49 × 409; a delete over quota lets the next upload in', async () => {
    await svc.store.owners.upsert('pg-owner', { quotaBytes: 100 });
    const up = await upload(svc.url, Buffer.alloc(200, 1), 'pg.bin', { owner: 'pg-owner' });
    assert.equal(up.status, 202);
    assert.ok(await svc.store.failFile(up.body.id, 'test: failed'));
    const statuses = await Promise.all(
      Array.from({ length: 50 }, () =>
        fetch(`${svc.url}/api/v1/files/${up.body.id}/reprocess`, { method: 'POST' }).then(async (r) => (await r.arrayBuffer(), r.status)),
      ),
    );
    assert.deepEqual([statuses.filter((s) => s === 202).length, statuses.filter((s) => s === 409).length], [1, 49]);

    assert.equal((await upload(svc.url, Buffer.from('x'), 'x.bin', { owner: 'pg-owner' })).status, 507);
    assert.equal((await fetch(`${svc.url}/api/v1/files/${up.body.id}`, { method: 'DELETE' })).status, 202);
    assert.equal((await upload(svc.url, Buffer.from('x'), 'x.bin', { owner: 'pg-owner' })).status, 202);
  });
});
