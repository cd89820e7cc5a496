/**
 * Per-step time on a 1-megapixel image (warm, median of N), the plain-loop baseline
 * (images/s), and MobileNetV2 per image on the WASM and pure-JS backends.
 *
 *   node .build-steps/bench/steps.js [N]      (default N = 5; BENCH_IMAGES images in the loop, default 8)
 */
import { fileURLToPath } from 'node:url';

import sharp from 'sharp';

import { analyzeImage, warmAnalyze } from '../jobs/lib/analyze.js';
import { classifyNsfw, loadNsfwModel, NSFW_INPUT_SIZE } from '../jobs/lib/nsfw.js';
import { ocrImage, OcrPool } from '../jobs/lib/ocr.js';
import { useTfBackend } from '../jobs/lib/tf.js';
import { makeThumbnail } from '../jobs/lib/thumbnail.js';
import { photoLike, textImage } from '../test/fixtures/images.js';
import { runPipelineBaseline } from './pipeline-baseline.js';

const limits = { maxPixels: 100_000_000 };

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

async function timeIt(n: number, fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm
  const runs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    runs.push(performance.now() - t);
  }
  return Math.round(median(runs) * 10) / 10;
}

/** A 1155×866 (1.0 MP) photo-like JPEG with a caption block, so OCR has something to read. */
export async function megapixelImage(seed = 1): Promise<Buffer> {
  const caption = await textImage(['Nightshift benchmark caption', `image number ${seed}`], { width: 700 });
  const photo = await photoLike(1155, 866, seed, 'png');
  return sharp(photo)
    .composite([{ input: caption, left: 40, top: 40 }])
    .jpeg({ quality: 88 })
    .toBuffer();
}

export interface StepsBench {
  readonly n: number;
  readonly stepMedianMs: { thumbnail: number; analyze: number; ocr: number };
  readonly backend: string;
  readonly baseline: Awaited<ReturnType<typeof runPipelineBaseline>>;
  readonly mobilenetMsPerImage: { wasm: number; cpu: number };
}

export async function benchSteps(n = 5, loopImages = 8): Promise<StepsBench> {
  const image = await megapixelImage();
  const backend = await warmAnalyze();
  const pool = new OcrPool({ langs: ['eng'], size: 1 });
  let stepMedianMs: StepsBench['stepMedianMs'];
  try {
    stepMedianMs = {
      thumbnail: await timeIt(n, () => makeThumbnail(image, limits)),
      analyze: await timeIt(n, () => analyzeImage(image, limits)),
      ocr: await timeIt(n, () => ocrImage(pool, image, limits)),
    };
  } finally {
    await pool.close();
  }

  const images = await Promise.all(Array.from({ length: loopImages }, (_, i) => megapixelImage(i + 2)));
  const baseline = await runPipelineBaseline(images);

  const model = await loadNsfwModel();
  const { data } = await sharp(image).resize(NSFW_INPUT_SIZE, NSFW_INPUT_SIZE, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  const rgb = { data, width: NSFW_INPUT_SIZE, height: NSFW_INPUT_SIZE };
  const { tf } = await useTfBackend('wasm');
  const wasm = await timeIt(n, () => classifyNsfw(model, tf, rgb));
  await useTfBackend('cpu');
  // The JavaScript backend takes seconds per image: three runs are enough to see the ratio.
  const cpu = await timeIt(Math.min(n, 3), () => classifyNsfw(model, tf, rgb));
  await useTfBackend('wasm');
  return { n, stepMedianMs, backend, baseline, mobilenetMsPerImage: { wasm, cpu } };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const n = Number(process.argv[2] ?? 5);
  const result = await benchSteps(n, Number(process.env.BENCH_IMAGES ?? 8));
  console.log(JSON.stringify(result, null, 2));
}
