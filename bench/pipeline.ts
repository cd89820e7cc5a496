/**
 * Pipeline images/s through the whole service (HTTP upload → queue → steps → stored results),
 * against the same three library calls in a plain loop, in the same process, as a ratio.
 * Usage: node dist/bench/pipeline.js [images=8]
 */
import { createTempDir, createTempPgDatabase } from '../test/helpers/env.js';
import { photoLike, textImage } from '../test/helpers/images.js';
import { startTestService, upload, waitForFinal } from '../test/helpers/service.js';
import { runPipelineBaseline } from './pipeline-baseline.js';

const count = Number(process.argv[2] ?? 8);

async function makeImages(n: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) out.push(i % 2 === 0 ? await photoLike(1155, 866) : await textImage([`INVOICE ${i}`, 'TOTAL 42.00', 'THANK YOU']));
  return out;
}

async function throughService(images: Buffer[], env: Record<string, string>): Promise<{ ms: number; perSecond: number }> {
  const svc = await startTestService({ ...env, POLL_INTERVAL_MS: '1000' });
  try {
    // One warm-up file loads the models and the OCR worker before the clock starts.
    const warm = await upload(svc.url, images[0]!, 'warm.png');
    await waitForFinal(svc.url, warm.body.id, 300_000);
    const started = performance.now();
    const ids = [];
    for (const [i, bytes] of images.entries()) ids.push((await upload(svc.url, bytes, `img-${i}.png`)).body.id);
    for (const id of ids) {
      const f = await waitForFinal(svc.url, id, 600_000);
      if (f.status !== 'completed') throw new Error(`${id} ${f.status}: ${f.error}`);
    }
    const ms = performance.now() - started;
    return { ms: Math.round(ms), perSecond: Math.round((images.length / (ms / 1000)) * 100) / 100 };
  } finally {
    await svc.stop();
  }
}

const images = await makeImages(count);
console.log(`pipeline bench: ${count} images (~1 MP photos and text pages), 2 cores`);
const base = await runPipelineBaseline(images);
console.log(
  `plain loop (sharp + nsfwjs/${base.backend} + tesseract, one after another): ${base.imagesPerSecond} images/s  (per call ms: ${JSON.stringify(base.perCallMs)})`,
);

const tmp = await createTempDir('ns-bench-');
const sqlite = await throughService(images, { DATA_DIR: tmp.dir });
console.log(`service on SQLite:     ${sqlite.perSecond} images/s  ratio ${(sqlite.perSecond / base.imagesPerSecond).toFixed(2)}× the plain loop`);
await tmp.remove();

if (process.env.TEST_POSTGRES_URL) {
  const tmp2 = await createTempDir('ns-bench-');
  const db = await createTempPgDatabase();
  try {
    const pg = await throughService(images, { DATA_DIR: tmp2.dir, DATABASE_URL: db.url });
    console.log(`service on PostgreSQL: ${pg.perSecond} images/s  ratio ${(pg.perSecond / base.imagesPerSecond).toFixed(2)}× the plain loop`);
  } finally {
    await db.drop();
    await tmp2.remove();
  }
} else console.log('service on PostgreSQL: skipped (TEST_POSTGRES_URL not set)');

// Agenda leaves lock-check timers behind after stop; the figures are printed, so end here.
process.exit(0);
