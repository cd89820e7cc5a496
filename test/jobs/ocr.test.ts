import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, describe, test } from 'node:test';

import sharp from 'sharp';

import { decodeGrey, detectText, ocrImage, OcrPool, prepareForOcr, readWhenGranted } from '../../jobs/lib/ocr.js';
import { splitAtGap } from '../../jobs/lib/ocr-bands.js';
import { DEBIAN_TESSDATA_DIR, resolveLangs } from '../../jobs/lib/ocr-langs.js';
import { closeStepPools, stepPoolStats } from '../../jobs/lib/pools.js';
import { step as ocrStep } from '../../jobs/ocr.js';
import { errorCode, ErrorCodes } from '../../src/errors.js';
import { StepSkipped } from '../../src/pipeline/step.js';
import { SPARE } from '../../src/pool/worker.js';
import { exifRotatedJpeg, photoLike, textImage, truncatedJpeg } from '../fixtures/images.js';
import { createTempDir } from '../helpers/env.js';
import { dirBlobStore, fileRecord, stepContext, testConfig } from './context.js';

const limits = { maxPixels: 100_000_000 };
const words = (text: string) =>
  text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);

/** Images the text check was not tuned on: each says whether it holds text. */
async function heldBack(): Promise<Array<{ name: string; bytes: Buffer; text: boolean }>> {
  const onPhoto = await sharp(await photoLike(800, 600, 41))
    .composite([{ input: await textImage(['Holiday 2024 Lisbon'], { fontSize: 40, width: 560 }), left: 120, top: 400 }])
    .jpeg()
    .toBuffer();
  const inverted = await sharp(await textImage(['White text on a dark', 'background reads too'], { fontSize: 30 }))
    .negate({ alpha: false })
    .png()
    .toBuffer();
  return [
    { name: 'photo 640×480', bytes: await photoLike(640, 480, 31), text: false },
    { name: 'photo 2000×1500', bytes: await photoLike(2000, 1500, 32), text: false },
    { name: 'photo png 300×300', bytes: await photoLike(300, 300, 33, 'png'), text: false },
    { name: 'exif-rotated halves', bytes: await exifRotatedJpeg(), text: false },
    {
      name: 'flat grey',
      bytes: await sharp({ create: { width: 500, height: 400, channels: 3, background: '#777777' } })
        .png()
        .toBuffer(),
      text: false,
    },
    {
      name: 'screenshot 14 px',
      bytes: await textImage(['File  Edit  View  Window  Help', 'Saved 3 minutes ago by alice'], { fontSize: 14, width: 420 }),
      text: true,
    },
    {
      name: 'receipt 24 lines',
      bytes: await textImage(
        Array.from({ length: 24 }, (_, i) => `Line ${i} coffee 3.20 EUR`),
        { fontSize: 22, width: 600 },
      ),
      text: true,
    },
    { name: 'white on dark', bytes: inverted, text: true },
    { name: 'caption on a photo', bytes: onPhoto, text: true },
  ];
}

describe('ocr', () => {
  // One worker for the whole file: starting one costs about a second.
  const pool = new OcrPool({ langs: ['eng'], size: 1 });
  after(async () => {
    await pool.close();
    await closeStepPools();
  });

  test('reads rendered text back, with confidence and word boxes', async () => {
    const image = await textImage(['The quick brown fox jumps', 'over the lazy dog 2024']);
    const result = await ocrImage(pool, image, limits);
    const found = words(result.text);
    for (const w of ['quick', 'brown', 'fox', 'jumps', 'lazy', 'dog', '2024']) assert.ok(found.includes(w), `missing "${w}" in ${JSON.stringify(result.text)}`);
    assert.ok(result.confidence > 70, `confidence ${result.confidence}`);
    const fox = result.words?.find((w) => w.text.toLowerCase() === 'fox');
    assert.ok(fox, 'word boxes include "fox"');
    // Boxes are in the original's pixels although the image was padded (and maybe enlarged) for tesseract.
    assert.ok(fox.bbox.x1 <= 900 && fox.bbox.y1 <= 120 && fox.bbox.x0 < fox.bbox.x1, JSON.stringify(fox.bbox));
    // Each word its own box, in reading order: left to right on a line, the second line below the first.
    const box = (text: string) => result.words?.find((w) => w.text.toLowerCase() === text)?.bbox;
    const [quick, brown, lazy] = [box('quick'), box('brown'), box('lazy')];
    assert.ok(quick && brown && lazy, JSON.stringify(result.words));
    assert.ok(quick.x1 <= brown.x0 && brown.x1 <= fox.bbox.x0, `left to right: ${JSON.stringify([quick, brown, fox.bbox])}`);
    assert.ok(lazy.y0 >= fox.bbox.y1, `second line below the first: ${JSON.stringify([fox.bbox, lazy])}`);
    assert.ok(
      result.words?.every((w) => w.confidence > 0 && w.confidence <= 100),
      'word confidences are 0..100',
    );
  });

  test('a long page is read as two halves at once, cut between lines, and joined in reading order', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => `Line ${i + 1} of the invoice total ${100 + i}`);
    const page = await textImage(lines, { fontSize: 28, width: 1000 });
    const grey = await decodeGrey(page, limits);
    const presence = await detectText(grey);
    const parts = splitAtGap(grey, presence);
    assert.equal(parts.length, 2, `a 20-line page is cut in two: ${JSON.stringify({ lines: presence.lines, gaps: presence.gaps.length })}`);
    const [, second] = parts;
    assert.ok(second && second.top > grey.height * 0.3 && second.top < grey.height * 0.7, `cut near the middle: ${second?.top} of ${grey.height}`);
    const two = new OcrPool({ langs: ['eng'], size: 2 });
    try {
      const whole = await ocrImage(pool, page, limits);
      const halves = await ocrImage(two, page, limits);
      assert.deepEqual(words(halves.text), words(whole.text), 'the halves read what the whole page reads, in order');
      for (const n of [1, 10, 11, 20]) assert.ok(halves.text.includes(`Line ${n} of`), `line ${n} in ${JSON.stringify(halves.text)}`);
      const last = halves.words?.find((w) => w.text === '119');
      assert.ok(last && last.bbox.y0 > grey.height * 0.85, `boxes of the second half are in the original's rows: ${JSON.stringify(last?.bbox)}`);
      assert.ok(Math.abs(halves.confidence - whole.confidence) < 5, `${halves.confidence} vs ${whole.confidence}`);
    } finally {
      await two.close();
    }
  });

  test('the upscale follows the glyph size, not the image size, and the border is padded', async () => {
    const tiny = await prepareForOcr(await textImage(['tiny'], { fontSize: 12, width: 120 }), limits);
    assert.ok(tiny.scale >= 1.5, `small glyphs enlarged: scale ${tiny.scale}`);
    // A 900 px screenshot with ordinary 32 px text is read as it is (it used to be enlarged 2×: 4× the pixels).
    const screenshot = await prepareForOcr(await textImage(['An ordinary screenshot line', 'and a second one']), limits);
    assert.equal(screenshot.scale, 1);
    assert.ok(screenshot.pad > 0);
  });

  test('text touching the image edge is read to its last word', async () => {
    const edge = await sharp(await textImage(['Invoice 4821 paid'], { fontSize: 32, width: 500 }))
      .trim()
      .png()
      .toBuffer();
    const result = await ocrImage(pool, edge, limits);
    assert.ok(words(result.text).includes('paid'), JSON.stringify(result.text));
  });

  test('the text check tells text from photos on held-back images', async () => {
    const cases = await heldBack();
    const wrong = [];
    for (const c of cases) {
      const presence = await detectText(await decodeGrey(c.bytes, limits));
      if (presence.hasText !== c.text) wrong.push(`${c.name}: ${JSON.stringify(presence)}`);
    }
    assert.deepEqual(wrong, []);
  });

  test('the step: text from a page; a photo skipped with "no text found"; low confidence stored as ""', async () => {
    const tmp = await createTempDir();
    try {
      const run = (env: Record<string, string>, bytes: Buffer) =>
        ocrStep.run({
          file: fileRecord('f1', 'x.png', bytes.length),
          bytes,
          ctx: stepContext('ocr', testConfig(tmp.dir, { JOB_OCR_CONCURRENCY: '1', ...env }), dirBlobStore(tmp.dir)),
        });
      const page = await textImage(['Nightshift invoice 42']);
      const read = await run({}, page);
      assert.ok(!(read instanceof StepSkipped) && words(String(read.text)).includes('invoice'), JSON.stringify(read));
      const photo = await run({}, await photoLike(800, 600, 5));
      assert.ok(photo instanceof StepSkipped && photo.reason === 'no text found', JSON.stringify(photo));
      const unsure = await run({ OCR_MIN_CONFIDENCE: '99.9' }, page);
      assert.ok(!(unsure instanceof StepSkipped));
      assert.equal(unsure.text, '');
      assert.match(String(unsure.textReason), /OCR_MIN_CONFIDENCE/);
      const never = await run({ OCR_MODE: 'never' }, page);
      assert.ok(never instanceof StepSkipped && /OCR_MODE=never/.test(never.reason));
    } finally {
      await closeStepPools();
      await tmp.remove();
    }
  });

  test('the step past JOB_OCR_TIMEOUT_MS: its worker is terminated, STEP_TIMEOUT names the limit, the next run gets a new worker', async () => {
    const tmp = await createTempDir();
    try {
      // The limit is read per run; the pool (keyed by its own knobs) is the same for both configs.
      const limited = stepContext(
        'ocr',
        testConfig(tmp.dir, { JOB_OCR_CONCURRENCY: '1', JOB_OCR_TIMEOUT_MS: '1500', JOB_OCR_SOFT_TIMEOUT_MS: '0', OCR_MODE: 'always' }),
        dirBlobStore(tmp.dir),
      );
      const unlimited = stepContext('ocr', testConfig(tmp.dir, { JOB_OCR_CONCURRENCY: '1', OCR_MODE: 'always' }), dirBlobStore(tmp.dir));
      const run = (bytes: Buffer, ctx = limited) => ocrStep.run({ file: fileRecord('f1', 'x.png', bytes.length), bytes, ctx });
      await run(await textImage(['warm up']), unlimited);
      const dense = await textImage(
        Array.from({ length: 70 }, (_, i) => `line ${i} of a long dense page of text that takes a while to read`),
        { fontSize: 18, width: 1400 },
      );
      const started = performance.now();
      await assert.rejects(run(dense), (err) => errorCode(err) === ErrorCodes.STEP_TIMEOUT && /JOB_OCR_TIMEOUT_MS/.test((err as Error).message));
      assert.ok(performance.now() - started < 3_000, `ended ${Math.round(performance.now() - started)} ms after the start`);
      // A cold worker (tesseract starts again) on a loaded machine may need more than 1.5 s: no limit here.
      const again = await run(await textImage(['still working']), unlimited);
      assert.ok(!(again instanceof StepSkipped) && words(String(again.text)).includes('working'));
      const stats = stepPoolStats().ocr;
      assert.equal(stats?.terminated, 1);
      assert.equal(stats?.workersStarted, 2);
    } finally {
      await closeStepPools();
      await tmp.remove();
    }
  });

  test('an abort during recognition rejects promptly and the pool recovers', async () => {
    const page = await textImage(
      Array.from({ length: 20 }, (_, i) => `line ${i} of a long page of text to read slowly`),
      { width: 1400 },
    );
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
    await assert.rejects(
      resolveLangs(['eng', 'deu'], undefined),
      (err) => errorCode(err) === ErrorCodes.MODEL_LOAD_FAILED && /"deu".*OCR_LANG_DIR/.test((err as Error).message),
    );
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

const NO_DEBIAN_ENG = existsSync(`${DEBIAN_TESSDATA_DIR}/eng.traineddata`)
  ? false
  : `skipped: no ${DEBIAN_TESSDATA_DIR}/eng.traineddata (Debian's tesseract-ocr-eng, which .ci/run installs)`;

describe("Debian's English data (tessdata_fast) through OCR_LANG_DIR, as the image reads it", () => {
  test('is read instead of the bundled eng, uncompressed, and reads a page as well', { skip: NO_DEBIAN_ENG }, async () => {
    const source = await resolveLangs(['eng'], DEBIAN_TESSDATA_DIR);
    assert.deepEqual([source.langPath, source.gzip], [DEBIAN_TESSDATA_DIR, false]);
    const fast = new OcrPool({ langs: ['eng'], size: 1, langDir: DEBIAN_TESSDATA_DIR });
    try {
      const lines = ['INVOICE 4821 paid in full', 'Widget type B qty 3 EUR 14.37', 'Thank you for your order'];
      const result = await ocrImage(fast, await textImage(lines, { fontSize: 24, width: 700 }), limits);
      assert.deepEqual(words(result.text), words(lines.join(' ')), JSON.stringify(result.text));
      assert.ok(result.confidence > 80, `confidence ${result.confidence}`);
      assert.ok(
        result.words?.some((w) => w.text === '4821'),
        'word boxes',
      );
    } finally {
      await fast.close();
    }
  });
});

describe('a page read as two halves on a granted second core', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** Half "a" takes 100 ms, half "b" 300 ms; records when each starts and ends, and the spare flag at each end. */
  function halves(flag: Int32Array) {
    const seen: Record<string, number> = {};
    const at: Record<string, number> = {};
    const read = async (part: 'a' | 'b') => {
      at[`${part} start`] = performance.now();
      await sleep(part === 'a' ? 100 : 300);
      at[`${part} end`] = performance.now();
      seen[part] = Atomics.load(flag, 0);
      return part;
    };
    return { seen, at, read };
  }

  test('the core goes back as soon as the first half ends, while the other is still read', async () => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    Atomics.store(flag, 0, SPARE.granted);
    const { seen, read } = halves(flag);
    const reading = readWhenGranted('a', 'b', read, flag);
    await sleep(200);
    assert.equal(Atomics.load(flag, 0), SPARE.declined, 'declined once the short half ended, the long one still running');
    assert.equal(seen.b, undefined);
    assert.deepEqual(await reading, ['a', 'b']);
  });

  test('granted while the first half is read: the second starts beside it, and the core goes back when one ends', async () => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const { seen, at, read } = halves(flag);
    const reading = readWhenGranted('a', 'b', read, flag);
    await sleep(10);
    Atomics.store(flag, 0, SPARE.granted);
    Atomics.notify(flag, 0);
    assert.deepEqual(await reading, ['a', 'b']);
    assert.ok(at['b start']! < at['a end']!, JSON.stringify(at));
    assert.equal(seen.b, SPARE.declined);
  });

  test('never granted: the halves run one after the other and the request is declined', async () => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const { seen, at, read } = halves(flag);
    assert.deepEqual(await readWhenGranted('a', 'b', read, flag), ['a', 'b']);
    assert.equal(seen.a, SPARE.asked);
    assert.ok(at['b start']! >= at['a end']!);
    assert.equal(Atomics.load(flag, 0), SPARE.declined);
  });
});
