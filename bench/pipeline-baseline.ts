/**
 * The floor the service pipeline is measured against: the three library calls each step is
 * built on (sharp thumbnail, nsfwjs classify, tesseract recognize) in a plain loop, with no
 * queue, store, blob storage or job bookkeeping around them.
 */
import sharp from 'sharp';

import { classifyNsfw, loadNsfwModel, NSFW_INPUT_SIZE } from '../jobs/lib/nsfw.js';
import { OcrPool } from '../jobs/lib/ocr.js';
import { loadTf } from '../jobs/lib/tf.js';

export interface BaselineResult {
  readonly images: number;
  readonly totalMs: number;
  readonly imagesPerSecond: number;
  /** Summed time per library call, ms. */
  readonly perCallMs: { thumbnail: number; classify: number; ocr: number };
  readonly backend: string;
}

/**
 * Run every image through thumbnail → classify → OCR, one after another, after one warm-up
 * image. Models and the OCR worker are loaded before the clock starts.
 */
export async function runPipelineBaseline(images: readonly Buffer[]): Promise<BaselineResult> {
  const [{ tf, backend }, model] = await Promise.all([loadTf(), loadNsfwModel()]);
  const pool = new OcrPool({ langs: ['eng'], size: 1 });
  const perCallMs = { thumbnail: 0, classify: 0, ocr: 0 };
  const once = async (bytes: Buffer, record: boolean) => {
    const t = performance.now();
    await sharp(bytes).rotate().resize(300, 300, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 80 }).toBuffer();
    const t1 = performance.now();
    const { data, info } = await sharp(bytes)
      .rotate()
      .resize(NSFW_INPUT_SIZE, NSFW_INPUT_SIZE, { fit: 'fill' })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    await classifyNsfw(model, tf, { data, width: info.width, height: info.height });
    const t2 = performance.now();
    await pool.recognize(bytes);
    const t3 = performance.now();
    if (record) {
      perCallMs.thumbnail += t1 - t;
      perCallMs.classify += t2 - t1;
      perCallMs.ocr += t3 - t2;
    }
  };
  try {
    const first = images[0];
    if (first) await once(first, false);
    const started = performance.now();
    for (const bytes of images) await once(bytes, true);
    const totalMs = performance.now() - started;
    return {
      images: images.length,
      totalMs: Math.round(totalMs),
      imagesPerSecond: Math.round((images.length / (totalMs / 1000)) * 100) / 100,
      perCallMs: { thumbnail: Math.round(perCallMs.thumbnail), classify: Math.round(perCallMs.classify), ocr: Math.round(perCallMs.ocr) },
      backend,
    };
  } finally {
    await pool.close();
  }
}
