import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import sharp from 'sharp';

import { closeStepPools } from '../../jobs/lib/pools.js';
import { sniffType } from '../../jobs/lib/sniff.js';
import { makeThumbnail } from '../../jobs/lib/thumbnail.js';
import { step as thumbnailStep } from '../../jobs/thumbnail.js';
import type { JobContext } from '../../src/engine/job.js';
import { errorCode, ErrorCodes, PermanentError } from '../../src/errors.js';
import { exifRotatedJpeg, photoLike, pngBomb, tinyPdf, truncatedJpeg } from '../fixtures/images.js';
import { createTempDir } from '../helpers/env.js';
import { dirBlobStore, fileRecord, readBlob, stepContext, testConfig } from './context.js';

const limits = { maxPixels: 100_000_000 };

describe('thumbnail step', () => {
  let tmp: { dir: string; remove(): Promise<void> };
  let photo: Buffer;
  before(async () => {
    tmp = await createTempDir();
    photo = await photoLike(1600, 1200);
  });
  after(async () => {
    await closeStepPools();
    await tmp.remove();
  });

  test('a 1600×1200 photo becomes a ≤300 px WebP stored at thumbnails/<id>.webp', async () => {
    const blobs = dirBlobStore(tmp.dir);
    const ctx = stepContext('thumbnail', testConfig(tmp.dir), blobs);
    const result = await runThumbnail(ctx, photo);
    const stored = await readBlob(tmp.dir, 'thumbnails/f1.webp');
    assert.deepEqual(result, { thumbnailKey: 'thumbnails/f1.webp', thumbnailWidth: 300, thumbnailHeight: 225, thumbnailBytes: stored.length });
    assert.equal(sniffType(stored).mime, 'image/webp');
    const meta = await sharp(stored).metadata();
    assert.equal(meta.format, 'webp');
    assert.deepEqual([meta.width, meta.height], [300, 225]);
  });

  test('EXIF orientation is applied: a stored-landscape JPEG comes out portrait, red on top', async () => {
    const thumb = await makeThumbnail(await exifRotatedJpeg(), limits);
    assert.deepEqual([thumb.width, thumb.height], [150, 300]);
    const { data } = await sharp(thumb.data).raw().toBuffer({ resolveWithObject: true });
    const [r, , b] = data; // top-left pixel
    assert.ok((r ?? 0) > 200 && (b ?? 255) < 60, `top-left should be red, got r=${r} b=${b}`);
  });

  test('small images are not enlarged', async () => {
    const small = await sharp({ create: { width: 120, height: 80, channels: 3, background: '#123456' } })
      .png()
      .toBuffer();
    const thumb = await makeThumbnail(small, limits);
    assert.deepEqual([thumb.width, thumb.height], [120, 80]);
  });

  test('a truncated JPEG fails permanently with CORRUPT_IMAGE and says why', async () => {
    const err = await rejection(makeThumbnail(await truncatedJpeg(), limits));
    assert.ok(err instanceof PermanentError);
    assert.equal(errorCode(err), ErrorCodes.CORRUPT_IMAGE);
    assert.match(err.message, /truncated or corrupt \(.*premature end of JPEG/i);
  });

  test('a zero-byte file fails permanently with EMPTY_FILE', async () => {
    const err = await rejection(makeThumbnail(Buffer.alloc(0), limits));
    assert.ok(err instanceof PermanentError);
    assert.equal(errorCode(err), ErrorCodes.EMPTY_FILE);
  });

  test('a 30000×30000 PNG bomb is refused from its header, before any decoding', async () => {
    const bomb = pngBomb();
    assert.ok(bomb.length < 200_000, `bomb is ${bomb.length} bytes`);
    const started = performance.now();
    const err = await rejection(makeThumbnail(bomb, limits));
    const ms = performance.now() - started;
    assert.ok(err instanceof PermanentError);
    assert.equal(errorCode(err), ErrorCodes.IMAGE_TOO_LARGE);
    assert.match(err.message, /30000×30000 \(900 megapixels\), over the limit of 100 megapixels/);
    // Decoding 900 MP would take seconds and gigabytes; the header check takes milliseconds.
    assert.ok(ms < 500, `took ${ms.toFixed(0)} ms`);
  });

  test('the pixel limit comes from config.maxImagePixels', async () => {
    const ctx = stepContext('thumbnail', testConfig(tmp.dir, { MAX_IMAGE_PIXELS: '1000000' }), dirBlobStore(tmp.dir));
    const err = await rejection(runThumbnail(ctx, photo));
    assert.equal(errorCode(err), ErrorCodes.IMAGE_TOO_LARGE);
    assert.match(err.message, /1600×1200 \(1\.9 megapixels\), over the limit of 1\.0 megapixels/);
  });

  test('a PDF named photo.jpg is refused as UNSUPPORTED_TYPE, naming what it really is', async () => {
    const ctx = stepContext('thumbnail', testConfig(tmp.dir), dirBlobStore(tmp.dir));
    const bytes = tinyPdf();
    const err = await rejection(runThumbnail(ctx, bytes, 'photo.jpg'));
    assert.equal(errorCode(err), ErrorCodes.UNSUPPORTED_TYPE);
    assert.match(err.message, /application\/pdf, not an image/);
  });

  test('an aborted signal rejects promptly, with the signal reason', async () => {
    const controller = new AbortController();
    const pending = makeThumbnail(photo, { ...limits, signal: controller.signal });
    const started = performance.now();
    controller.abort(new Error('time limit'));
    const err = await rejection(pending);
    assert.equal(err.message, 'time limit');
    assert.ok(performance.now() - started < 100);
    // Already aborted before the call: nothing runs.
    const err2 = await rejection(makeThumbnail(photo, { ...limits, signal: AbortSignal.abort(new Error('stop')) }));
    assert.equal(err2.message, 'stop');
  });
});

/** The step's own run, called as defineStep calls it. */
async function runThumbnail(ctx: JobContext<'thumbnail'>, bytes: Buffer, filename = 'upload.bin'): Promise<Record<string, unknown>> {
  return (await thumbnailStep.run({ file: fileRecord('f1', filename, bytes.length), bytes, ctx })) as Record<string, unknown>;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof Error);
    return err;
  }
  assert.fail('expected a rejection');
}
