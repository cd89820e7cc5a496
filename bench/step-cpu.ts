/**
 * CPU-seconds per image of each step, measured through the step pools (one worker each, warm),
 * as process CPU (every thread) around each call; and the machine's limit for a mix:
 * cores ÷ (CPU-s per image summed over the steps). Also the text check's precision and recall.
 *
 *   node dist/bench/step-cpu.js
 */
import { availableParallelism, loadavg, tmpdir } from 'node:os';

import { decodeGrey, detectText } from '../jobs/lib/ocr.js';
import { openAnalyze, openOcr, openThumbnail } from '../jobs/lib/pools.js';
import { loadConfig } from '../src/registry.js';
import { photoLike } from '../test/fixtures/images.js';
import { invoicePage } from './images.js';

const limits = { maxPixels: 100_000_000 };
const one = { size: 1, maxHeapMb: 1024, maxTasksPerWorker: 10_000, maxRssMb: 4096 };

async function cpu(fn: () => Promise<unknown>): Promise<number> {
  const a = process.cpuUsage();
  await fn();
  const d = process.cpuUsage(a);
  return (d.user + d.system) / 1e6;
}

export interface StepCpu {
  readonly perImage: Record<'photo' | 'page', { analyze: number; thumbnail: number; ocr: number; total: number }>;
  /** Images/s the machine can do at most for a half-and-half mix. */
  readonly limitImagesPerSecond: number;
}

/**
 * `concurrent` 1 (default): one image at a time through one worker per step, on an otherwise
 * idle machine. `concurrent` n: n images at once through n workers per step, every core busy
 * as in the service under load (on this 2-core VM tesseract is ~8 % slower per page so).
 */
export async function measureStepCpu(photos: Buffer[], pages: Buffer[], concurrent = 1): Promise<StepCpu> {
  const opts = { ...one, size: concurrent };
  const analyze = openAnalyze(opts);
  const thumbnail = openThumbnail(opts);
  // The OCR data and settings the service reads from this environment (OCR_LANGS, OCR_LANG_DIR …),
  // so that the limit is that of the service the bench runs beside it.
  const config = loadConfig({ ...process.env, DATA_DIR: process.env.DATA_DIR ?? tmpdir() });
  const ocr = openOcr({ ...opts, langs: config.ocrLangs, langDir: config.ocrLangDir });
  const ocrOptions = { ...limits, mode: config.ocrMode, minConfidence: config.ocrMinConfidence };
  try {
    // Warm every worker (models, tesseract), one pool at a time: run together, the pools' tasks
    // share the machine's slots, and a pool's second task could find its first worker free again
    // and leave the second cold, to load its models inside the measurement.
    const warm = Array.from({ length: concurrent }, () => pages[0]!);
    const warmers: Array<(p: Buffer) => Promise<unknown>> = [(p) => analyze.run(p, limits), (p) => thumbnail.run(p, limits), (p) => ocr.run(p, ocrOptions)];
    for (const run of warmers) await Promise.all(warm.map(run));
    const perImage = {} as StepCpu['perImage'];
    for (const [kind, images] of [
      ['photo', photos],
      ['page', pages],
    ] as const) {
      const sums = { analyze: 0, thumbnail: 0, ocr: 0 };
      const all = (fn: (img: Buffer) => Promise<unknown>) => cpu(() => Promise.all(images.map(fn)));
      if (concurrent === 1) {
        for (const img of images) {
          sums.analyze += await cpu(() => analyze.run(img, limits));
          sums.thumbnail += await cpu(() => thumbnail.run(img, limits));
          sums.ocr += await cpu(() => ocr.run(img, ocrOptions));
        }
      } else {
        // The pools queue what is past their size: `concurrent` run at once, every core busy.
        sums.analyze = await all((img) => analyze.run(img, limits));
        sums.thumbnail = await all((img) => thumbnail.run(img, limits));
        sums.ocr = await all((img) => ocr.run(img, ocrOptions));
      }
      const r = (v: number) => Math.round((v / images.length) * 1000) / 1000;
      const per = { analyze: r(sums.analyze), thumbnail: r(sums.thumbnail), ocr: r(sums.ocr) };
      perImage[kind] = { ...per, total: Math.round((per.analyze + per.thumbnail + per.ocr) * 1000) / 1000 };
    }
    const mean = (perImage.photo.total + perImage.page.total) / 2;
    return { perImage, limitImagesPerSecond: Math.round((availableParallelism() / mean) * 100) / 100 };
  } finally {
    await Promise.all([analyze.close(), thumbnail.close(), ocr.close()]);
  }
}

/** Precision and recall of the text check over images labelled with/without text. */
export async function textCheckScores(
  withText: Buffer[],
  without: Buffer[],
): Promise<{ precision: number; recall: number; tp: number; fp: number; fn: number }> {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const img of withText)
    if ((await detectText(await decodeGrey(img, limits))).hasText) tp++;
    else fn++;
  for (const img of without) if ((await detectText(await decodeGrey(img, limits))).hasText) fp++;
  return { precision: tp + fp === 0 ? 1 : tp / (tp + fp), recall: tp + fn === 0 ? 1 : tp / (tp + fn), tp, fp, fn };
}

if (process.argv[1]?.endsWith('step-cpu.js')) {
  console.log(
    `step CPU: ${availableParallelism()} cores, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const photos = await Promise.all([1, 2, 3, 4].map((i) => photoLike(1155, 866, i + 10)));
  const pages = await Promise.all([1, 2, 3, 4].map((i) => invoicePage(i + 10)));
  console.log(`one at a time: ${JSON.stringify(await measureStepCpu(photos, pages))}`);
  console.log(`${availableParallelism()} at once:   ${JSON.stringify(await measureStepCpu(photos, pages, availableParallelism()))}`);
  const allPhotos = await Promise.all(Array.from({ length: 12 }, (_, i) => photoLike(1155, 866, i + 10)));
  const allPages = await Promise.all(Array.from({ length: 12 }, (_, i) => invoicePage(i + 10)));
  console.log(`text check on the bench's 12 photos and 12 text pages: ${JSON.stringify(await textCheckScores(allPages, allPhotos))}`);
  process.exit(0);
}
