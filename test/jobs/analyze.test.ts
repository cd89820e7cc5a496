import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import sharp from 'sharp';

import { step as analyzeStep } from '../../jobs/analyze.js';
import { analyzeImage, warmAnalyze } from '../../jobs/lib/analyze.js';
import { loadCustomModel, writeModelDir } from '../../jobs/lib/custom-model.js';
import type { RgbImage } from '../../jobs/lib/facts.js';
import { dominantColours, hashDistance, laplacianVariance } from '../../jobs/lib/facts.js';
import { closeStepPools } from '../../jobs/lib/pools.js';
import { loadTf } from '../../jobs/lib/tf.js';
import { errorCode, ErrorCodes } from '../../src/errors.js';
import { photoLike, pngBomb, truncatedJpeg } from '../fixtures/images.js';
import { createTempDir } from '../helpers/env.js';
import { dirBlobStore, fileRecord, stepContext, testConfig } from './context.js';

const limits = { maxPixels: 100_000_000 };

async function rgbOf(bytes: Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

describe('analyze', () => {
  let tmp: { dir: string; remove(): Promise<void> };
  let photo: Buffer;
  before(async () => {
    tmp = await createTempDir();
    photo = await photoLike(1024, 768, 3);
    // Models load once for the whole file.
    await warmAnalyze();
  });
  after(async () => {
    await closeStepPools();
    await tmp.remove();
  });

  test('labels with scores from the bundled model, plus image facts, on the wasm backend', async () => {
    const result = await analyzeImage(photo, limits);
    assert.equal(result.backend, 'wasm');
    assert.deepEqual(result.labels.map((l) => l.label).sort(), ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy']);
    assert.ok(result.labels.every((l) => l.source === 'nsfw' && l.score >= 0 && l.score <= 1));
    const total = result.labels.reduce((s, l) => s + l.score, 0);
    assert.ok(Math.abs(total - 1) < 0.01, `scores sum to ${total}`);
    for (let i = 1; i < result.labels.length; i++) assert.ok((result.labels[i - 1]?.score ?? 0) >= (result.labels[i]?.score ?? 0));
    assert.equal(result.width, 1024);
    assert.equal(result.height, 768);
    assert.equal(result.format, 'jpeg');
    assert.equal(result.mime, 'image/jpeg');
    assert.match(result.dhash, /^[0-9a-f]{16}$/);
    assert.ok(result.dominantColours.length >= 1 && result.dominantColours.every((c) => /^#[0-9a-f]{6}$/.test(c.hex)));
    assert.ok(result.sharpness > 0);
  });

  test('facts: dominant colours, sharpness and the perceptual hash behave', async () => {
    const twoColours = await sharp({ create: { width: 100, height: 100, channels: 3, background: '#ff0000' } })
      .composite([
        {
          input: await sharp({ create: { width: 100, height: 25, channels: 3, background: '#0000ff' } })
            .png()
            .toBuffer(),
          left: 0,
          top: 0,
        },
      ])
      .png()
      .toBuffer();
    assert.deepEqual(dominantColours(await rgbOf(twoColours)), [
      { hex: '#ff0000', share: 0.75 },
      { hex: '#0000ff', share: 0.25 },
    ]);
    const sharpImage = await rgbOf(photo);
    const blurred = await rgbOf(await sharp(photo).blur(4).toBuffer());
    assert.ok(laplacianVariance(sharpImage) > 5 * laplacianVariance(blurred), 'blur lowers the sharpness score');

    const a = await analyzeImage(photo, limits);
    const smaller = await analyzeImage(await sharp(photo).resize(400).webp().toBuffer(), limits);
    const other = await analyzeImage(await photoLike(1024, 768, 99), limits);
    assert.ok(hashDistance(a.dhash, smaller.dhash) <= 6, `resized copy: ${hashDistance(a.dhash, smaller.dhash)} bits`);
    assert.ok(hashDistance(a.dhash, other.dhash) > 10, `different picture: ${hashDistance(a.dhash, other.dhash)} bits`);
  });

  test('a user model from ANALYZE_MODEL_DIR adds labels with source "custom"', async () => {
    const { tf } = await loadTf();
    const modelDir = join(tmp.dir, 'model');
    // A tiny classifier: mean colour → [reddish, bluish], with weights set by hand.
    const model = tf.sequential({
      layers: [tf.layers.globalAveragePooling2d({ inputShape: [16, 16, 3] }), tf.layers.dense({ units: 2, activation: 'softmax' })],
    });
    model.layers[1]?.setWeights([
      tf.tensor2d([
        [10, -10],
        [0, 0],
        [-10, 10],
      ]),
      tf.tensor1d([0, 0]),
    ]);
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        await writeModelDir(modelDir, artifacts);
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    model.dispose();
    await writeFile(join(modelDir, 'labels.txt'), 'reddish\nbluish\n');

    const red = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#e01010' } })
      .png()
      .toBuffer();
    const ctx = stepContext('analyze', testConfig(tmp.dir, { ANALYZE_MODEL_DIR: modelDir }), dirBlobStore(tmp.dir));
    const result = (await analyzeStep.run({ file: fileRecord('f1', 'red.png', red.length), bytes: red, ctx })) as Record<string, unknown>;
    const labels = result.labels as Array<{ label: string; score: number; source: string }>;
    const custom = labels.filter((l) => l.source === 'custom');
    assert.deepEqual(
      custom.map((l) => l.label),
      ['reddish', 'bluish'],
    );
    assert.ok((custom[0]?.score ?? 0) > 0.9);
    assert.ok(labels.some((l) => l.source === 'nsfw'));
    assert.equal((await loadCustomModel(modelDir)).inputWidth, 16);
  });

  test('a model whose outputs do not match its labels is refused at load', async () => {
    const dir = join(tmp.dir, 'bad-model');
    const { tf } = await loadTf();
    const model = tf.sequential({ layers: [tf.layers.globalAveragePooling2d({ inputShape: [8, 8, 3] }), tf.layers.dense({ units: 3 })] });
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        await writeModelDir(dir, artifacts);
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    model.dispose();
    await writeFile(join(dir, 'labels.json'), JSON.stringify(['only', 'two']));
    await assert.rejects(
      loadCustomModel(dir),
      (err) => errorCode(err) === ErrorCodes.MODEL_LOAD_FAILED && /3 scores but there are 2 labels/.test((err as Error).message),
    );
  });

  test('unreadable input fails with catalog codes before any inference', async () => {
    await assert.rejects(analyzeImage(await truncatedJpeg(), limits), (err) => errorCode(err) === ErrorCodes.CORRUPT_IMAGE);
    await assert.rejects(analyzeImage(pngBomb(), limits), (err) => errorCode(err) === ErrorCodes.IMAGE_TOO_LARGE);
    await assert.rejects(analyzeImage(Buffer.from('just some text'), limits), (err) => errorCode(err) === ErrorCodes.UNSUPPORTED_TYPE);
  });

  test('abort rejects promptly with the signal reason', async () => {
    const controller = new AbortController();
    const pending = analyzeImage(photo, { ...limits, signal: controller.signal });
    controller.abort(new Error('shutdown'));
    const started = performance.now();
    await assert.rejects(pending, /shutdown/);
    assert.ok(performance.now() - started < 500);
  });
});
