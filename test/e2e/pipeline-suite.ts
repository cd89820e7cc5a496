import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';

import sharp from 'sharp';

import { photoLike, pngBomb, textImage } from '../helpers/images.js';
import { startTestService, upload, waitForFinal } from '../helpers/service.js';

type Started = Awaited<ReturnType<typeof startTestService>>;

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

/**
 * The real pipeline through the HTTP API on one store: upload → processing → completed, with
 * OCR text, thumbnail and analysis; hostile input ends failed with a reason, and the worker
 * keeps serving.
 */
export function pipelineSuite(name: string, makeEnv: () => Promise<{ env: Record<string, string>; dataDir: string; cleanup(): Promise<void> }>) {
  describe(`pipeline on ${name}`, { timeout: 240_000 }, () => {
    let svc: Started;
    let dataDir: string;
    let cleanup: () => Promise<void>;

    before(async () => {
      const made = await makeEnv();
      dataDir = made.dataDir;
      cleanup = made.cleanup;
      svc = await startTestService(made.env);
    });
    after(async () => {
      await svc?.stop();
      await cleanup?.();
    });

    test('an image with rendered text comes back with its words, a thumbnail and analysis', async () => {
      const words = ['NIGHTSHIFT', 'PIPELINE', 'WORKS'];
      const up = await upload(svc.url, await textImage(words), 'words.png', { owner: 'alice', contentType: 'image/png' });
      assert.equal(up.status, 202);
      assert.equal(up.body.status, 'uploaded');
      const file = await waitForFinal(svc.url, up.body.id, 120_000);
      assert.equal(file.status, 'completed', JSON.stringify(file));
      assert.equal(file.owner, 'alice');
      for (const step of ['analyze', 'thumbnail', 'ocr']) assert.equal(file.steps[step]?.status, 'completed');
      const text = String(file.result?.text ?? '').toUpperCase();
      for (const w of words) assert.ok(text.includes(w), `OCR text ${JSON.stringify(text)} lacks ${w}`);
      assert.equal(typeof file.result?.confidence, 'number');
      assert.ok(Array.isArray(file.result?.labels) && (file.result.labels as unknown[]).length > 0, 'analysis labels');
      assert.equal(file.result?.width, 1000);
      assert.equal(typeof file.result?.thumbnailUrl, 'string');
    });

    test('a photo-like image gets a WebP thumbnail of at most 300 px', async () => {
      const up = await upload(svc.url, await photoLike(), 'holiday.jpg', { contentType: 'image/jpeg' });
      const file = await waitForFinal(svc.url, up.body.id, 120_000);
      assert.equal(file.status, 'completed', JSON.stringify(file));
      const res = await fetch(`${svc.url}/api/v1/files/${file.id}/thumbnail`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/webp');
      const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
      assert.equal(meta.format, 'webp');
      assert.ok((meta.width ?? 999) <= 300 && (meta.height ?? 999) <= 300, `${meta.width}x${meta.height}`);
      assert.equal(Math.max(meta.width ?? 0, meta.height ?? 0), 300);
    });

    test('a non-image file completes with its image steps skipped', async () => {
      const up = await upload(svc.url, Buffer.from('just some notes\nline two\n'), 'notes.txt', { contentType: 'text/plain' });
      const file = await waitForFinal(svc.url, up.body.id);
      assert.equal(file.status, 'completed');
      for (const step of ['analyze', 'thumbnail', 'ocr']) assert.equal(file.steps[step]?.status, 'skipped');
    });

    test('hostile and broken uploads end failed with a reason, and the worker keeps serving', async () => {
      const jpeg = await photoLike(400, 300);
      const cases = [
        { name: 'empty.png', bytes: Buffer.alloc(0), reason: /empty/i },
        { name: 'truncated.jpg', bytes: jpeg.subarray(0, Math.floor(jpeg.length / 3)), reason: /truncat|corrupt|premature/i },
        { name: 'bomb.png', bytes: pngBomb(), reason: /pixel|too large|limit/i },
      ];
      const ids = [];
      for (const c of cases) ids.push((await upload(svc.url, c.bytes, c.name)).body.id);
      // An extension that lies and a filename that tries to climb out of the blob directory.
      const liar = await upload(svc.url, await textImage(['LIAR']), '../../../etc/passwd\u0001\u202e.jpg', { contentType: 'image/jpeg' });
      for (const [i, c] of cases.entries()) {
        const file = await waitForFinal(svc.url, ids[i]!, 120_000);
        assert.equal(file.status, 'failed', `${c.name}: ${JSON.stringify(file)}`);
        assert.match(String(file.error), c.reason, `${c.name}: ${file.error}`);
      }
      const lied = await waitForFinal(svc.url, liar.body.id, 120_000);
      assert.equal(lied.status, 'completed', JSON.stringify(lied));
      assert.equal(lied.contentType, 'image/png');
      assert.equal(lied.filename, 'passwd.jpg');
      // Still serving after all that.
      const ok = await upload(svc.url, await textImage(['AGAIN']), 'again.png');
      assert.equal((await waitForFinal(svc.url, ok.body.id, 120_000)).status, 'completed');
      // Nothing outside the data directory's own files was written.
      for (const f of await walk(dataDir)) {
        const rel = relative(dataDir, f);
        assert.ok(/^(blobs\/(originals|thumbnails)\/|nightshift(-jobs)?\.db)/.test(rel), `unexpected file ${rel}`);
      }
    });
  });
}
