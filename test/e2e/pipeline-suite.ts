import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';

import sharp from 'sharp';

import { stepPoolStats } from '../../jobs/lib/pools.js';
import { textImage as linesImage } from '../fixtures/images.js';
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

    test('a photo-like image gets a WebP thumbnail of at most 300 px, and OCR skipped: no text found', async () => {
      const up = await upload(svc.url, await photoLike(), 'holiday.jpg', { contentType: 'image/jpeg' });
      const file = await waitForFinal(svc.url, up.body.id, 120_000);
      assert.equal(file.status, 'completed', JSON.stringify(file));
      assert.equal(file.steps.ocr?.status, 'skipped');
      assert.equal(file.steps.ocr?.error, 'no text found');
      assert.equal(file.result?.text, undefined);
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

  describe(`step limits on ${name}`, { timeout: 240_000 }, () => {
    let svc: Started;
    let cleanup: () => Promise<void>;
    before(async () => {
      const made = await makeEnv();
      cleanup = made.cleanup;
      svc = await startTestService({
        ...made.env,
        JOB_OCR_TIMEOUT_MS: '4000',
        // No soft limit: this is about the hard one terminating a worker that would not stop.
        JOB_OCR_SOFT_TIMEOUT_MS: '0',
        JOB_ANALYZE_MAX_HEAP_MB: '16',
        JOB_THUMBNAIL_MAX_TASKS_PER_WORKER: '1',
      });
    });
    after(async () => {
      await svc?.stop();
      await cleanup?.();
    });

    test('an OCR attempt past its hard limit is terminated, every retry runs on a new worker, and nothing of it is kept', async () => {
      const before = stepPoolStats().ocr;
      // Far more than 4 s of recognition, so every attempt is stopped while it runs (a worker start-up fits in the limit).
      const dense = await linesImage(
        Array.from({ length: 150 }, (_, i) => `line ${i} of a long dense page of text that takes a while to read, twice over`),
        { fontSize: 18, width: 1600 },
      );
      const up = await upload(svc.url, dense, 'dense.png');
      // Ordinary pages uploaded beside it wait for an OCR worker while it runs: the wait is not their limit's.
      const pages = [];
      for (let i = 0; i < 3; i++) pages.push((await upload(svc.url, await textImage([`INVOICE ${4820 + i}`, 'TOTAL 12.50']), `page${i}.png`)).body.id);
      const file = await waitForFinal(svc.url, up.body.id, 120_000);
      assert.equal(file.status, 'failed');
      assert.equal(file.steps.ocr?.status, 'failed');
      assert.equal(file.steps.ocr?.attempts, 3);
      assert.match(String(file.steps.ocr?.error), /time limit of 4000 ms \(JOB_OCR_TIMEOUT_MS\)/);
      assert.equal(file.result?.text, undefined, 'a terminated attempt leaves no text');
      assert.equal(file.steps.thumbnail?.status, 'completed');
      const after = stepPoolStats().ocr;
      assert.ok(after, 'the ocr pool ran');
      // At least its three attempts: a page beside it may also reach the 4 s limit on a loaded machine (and is retried).
      assert.ok(after.terminated - (before?.terminated ?? 0) >= 3, JSON.stringify(after));
      assert.ok(after.workersStarted - (before?.workersStarted ?? 0) >= 3, `each attempt on its own worker: ${JSON.stringify(after)}`);
      for (const id of pages) {
        const page = await waitForFinal(svc.url, id, 120_000);
        // (analyze fails on every file here: its heap cap is 16 MB for the next test.)
        assert.equal(page.steps.ocr?.status, 'completed', `${id}: ${JSON.stringify(page.steps)}`);
        assert.match(String(page.result?.text), /INVOICE 48\d\d/);
      }
    });

    test('analyze past its heap cap fails with an actionable out-of-memory error; the service keeps serving', async () => {
      const up = await upload(svc.url, await textImage(['HEAP']), 'heap.png');
      const file = await waitForFinal(svc.url, up.body.id, 120_000);
      assert.equal(file.steps.analyze?.status, 'failed');
      assert.match(String(file.steps.analyze?.error), /out of memory.*16 MB.*JOB_ANALYZE_MAX_HEAP_MB/);
      // The other steps of the same file went on (OCR is not asserted: here it starts a cold worker within its 4 s).
      assert.equal(file.steps.thumbnail?.status, 'completed');
      assert.equal((await fetch(`${svc.url}/healthz`)).status, 200);
    });

    test('thumbnail workers recycled after every task lose nothing', async () => {
      const before = stepPoolStats().thumbnail?.recycles ?? 0;
      const ids = [];
      for (let i = 0; i < 4; i++) ids.push((await upload(svc.url, await photoLike(400 + i * 10, 300), `r${i}.jpg`)).body.id);
      for (const id of ids) {
        const file = await waitForFinal(svc.url, id, 120_000);
        assert.equal(file.steps.thumbnail?.status, 'completed', JSON.stringify(file.steps));
        assert.equal(typeof file.result?.thumbnailUrl, 'string');
      }
      // Workers that finish together retire as one generation: at least two recycles for four files on two workers.
      assert.ok((stepPoolStats().thumbnail?.recycles ?? 0) - before >= 2, JSON.stringify(stepPoolStats().thumbnail));
    });
  });
}
