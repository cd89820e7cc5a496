import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { step as ocrStep } from '../../jobs/ocr.js';
import { closeSharedOcrPool, OcrPool, ocrImage, prepareForOcr } from '../../jobs/lib/ocr.js';
import { resolveLangs } from '../../jobs/lib/ocr-langs.js';
import { errorCode, ErrorCodes } from '../../src/errors.js';
import { textImage, truncatedJpeg } from '../fixtures/images.js';
import { createTempDir } from '../helpers/env.js';
import { dirBlobStore, fileRecord, stepContext, testConfig } from './context.js';

const limits = { maxPixels: 100_000_000 };
const words = (text: string) => text.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);

describe('ocr', () => {
  // One worker for the whole file: starting one costs about a second.
  const pool = new OcrPool({ langs: ['eng'], size: 1 });
  after(async () => {
    await pool.close();
    await closeSharedOcrPool();
  });

  test('reads rendered text back, with confidence and word boxes', async () => {
    const image = await textImage(['The quick brown fox jumps', 'over the lazy dog 2024']);
    const result = await ocrImage(pool, image, limits);
    const found = words(result.text);
    for (const w of ['quick', 'brown', 'fox', 'jumps', 'lazy', 'dog', '2024']) assert.ok(found.includes(w), `missing "${w}" in ${JSON.stringify(result.text)}`);
    assert.ok(result.confidence > 70, `confidence ${result.confidence}`);
    const fox = result.words?.find((w) => w.text.toLowerCase() === 'fox');
    assert.ok(fox, 'word boxes include "fox"');
    // Boxes are in the original's pixels although the image was enlarged for tesseract.
    assert.ok(fox.bbox.x1 <= 900 && fox.bbox.y1 <= 120 && fox.bbox.x0 < fox.bbox.x1, JSON.stringify(fox.bbox));
  });

  test('small images are enlarged and made grey before recognition', async () => {
    const prepared = await prepareForOcr(await textImage(['tiny'], { fontSize: 12, width: 120 }), limits);
    assert.equal(prepared.scale, 2);
  });

  test('the step run uses config languages and returns text', async () => {
    const tmp = await createTempDir();
    try {
      const ctx = stepContext('ocr', testConfig(tmp.dir), dirBlobStore(tmp.dir));
      const bytes = await textImage(['Nightshift invoice 42']);
      const result = await ocrStep.run({ file: fileRecord('f1', 'scan.png', bytes.length), bytes, ctx });
      assert.ok(words(String(result.text)).includes('invoice'), JSON.stringify(result.text));
      assert.equal(typeof result.confidence, 'number');
    } finally {
      await tmp.remove();
    }
  });

  test('an abort during recognition rejects promptly and the pool recovers', async () => {
    const page = await textImage(Array.from({ length: 20 }, (_, i) => `line ${i} of a long page of text to read slowly`), { width: 1400 });
    const controller = new AbortController();
    const pending = ocrImage(pool, page, limits, controller.signal);
    setTimeout(() => controller.abort(new Error('time limit')), 300);
    const started = performance.now();
    await assert.rejects(pending, /time limit/);
    assert.ok(performance.now() - started < 2_000);
    // The terminated worker is replaced on demand.
    const again = await ocrImage(pool, await textImage(['still working']), limits);
    assert.ok(words(again.text).includes('working'), again.text);
    assert.ok(pool.size <= 1);
  });

  test('broken input and missing languages fail with catalog codes', async () => {
    await assert.rejects(ocrImage(pool, await truncatedJpeg(), limits), (err) => errorCode(err) === ErrorCodes.CORRUPT_IMAGE);
    await assert.rejects(resolveLangs(['eng', 'deu'], undefined), (err) => errorCode(err) === ErrorCodes.MODEL_LOAD_FAILED && /"deu".*OCR_LANG_DIR/.test((err as Error).message));
  });

  test('languages from OCR_LANG_DIR are joined with the bundled eng through a staging directory', async () => {
    const tmp = await createTempDir();
    try {
      const { copyFile } = await import('node:fs/promises');
      const { bundledEngDir } = await import('../../jobs/lib/ocr-langs.js');
      // Any valid traineddata serves: a copy of eng under another code.
      await copyFile(`${bundledEngDir()}/eng.traineddata.gz`, `${tmp.dir}/xyz.traineddata.gz`);
      const source = await resolveLangs(['eng', 'xyz'], tmp.dir);
      assert.notEqual(source.langPath, tmp.dir);
      assert.equal(source.gzip, false);
      await source.cleanup();
      const only = await resolveLangs(['xyz'], tmp.dir);
      assert.deepEqual([only.langPath, only.gzip], [tmp.dir, true]);
    } finally {
      await tmp.remove();
    }
  });
});
