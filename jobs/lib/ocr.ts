import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import type { Page, Worker } from 'tesseract.js';

import { abortReason, raceAbort, throwIfAborted } from '../../src/abort.js';
import { checkImage, imageError, openImage } from './image.js';
import type { ImageLimits } from './image.js';
import type { LangSource } from './ocr-langs.js';
import { resolveLangs } from './ocr-langs.js';

export interface OcrPoolOptions {
  /** Tesseract language codes (config.ocrLangs). */
  readonly langs: readonly string[];
  /** Extra *.traineddata(.gz) (config.ocrLangDir). */
  readonly langDir?: string | undefined;
  /** Workers at most, one recognition each at a time (the step's concurrency). */
  readonly size: number;
}

export interface OcrWord {
  readonly text: string;
  /** 0..100 */
  readonly confidence: number;
  /** In the original image's pixels (upright). */
  readonly bbox: { x0: number; y0: number; x1: number; y1: number };
}

export interface OcrResult {
  readonly text: string;
  /** Mean word confidence 0..100 (tesseract's page confidence). */
  readonly confidence: number;
  /** Up to MAX_WORDS words with boxes. */
  readonly words?: OcrWord[];
}

const MAX_WORDS = 1000;

/**
 * A small pool of tesseract.js worker threads, created on first use and reused across jobs.
 * An aborted recognition terminates its worker (tesseract cannot be interrupted) and a fresh one
 * takes its place on demand. Idle workers do not keep the process alive.
 */
export class OcrPool {
  private readonly idle: Worker[] = [];
  private readonly waiters: Array<{ resolve: (w: Worker) => void; reject: (e: unknown) => void }> = [];
  private live = 0;
  private langs: Promise<LangSource> | undefined;
  private closed = false;

  constructor(private readonly options: OcrPoolOptions) {}

  /** Workers currently alive (busy or idle). */
  get size(): number {
    return this.live;
  }

  private async spawn(): Promise<Worker> {
    this.langs ??= resolveLangs(this.options.langs, this.options.langDir);
    const { langPath, gzip } = await this.langs;
    const tesseract = (await import('tesseract.js')).default;
    const require = createRequire(import.meta.url);
    const worker = await tesseract.createWorker([...this.options.langs], tesseract.OEM.LSTM_ONLY, {
      langPath,
      gzip,
      // No cache: the default writes eng.traineddata into the current directory.
      cacheMethod: 'none',
      workerPath: join(dirname(require.resolve('tesseract.js/package.json')), 'src/worker-script/node/index.js'),
      corePath: dirname(require.resolve('tesseract.js-core/package.json')),
      logger: () => {},
      // Without a handler a failed job is rethrown inside tesseract's message listener: an uncaught exception.
      errorHandler: () => {},
    });
    return worker;
  }

  private thread(worker: Worker): { ref(): void; unref(): void } | undefined {
    return (worker as unknown as { worker?: { ref(): void; unref(): void } }).worker;
  }

  private async acquire(signal: AbortSignal | undefined): Promise<Worker> {
    throwIfAborted(signal);
    const ready = this.idle.pop();
    if (ready) return ready;
    if (this.live < this.options.size) {
      this.live++;
      const spawning = this.spawn();
      try {
        return await raceAbort(spawning, signal, () => {
          spawning.then((w) => w.terminate(), () => {});
        });
      } catch (err) {
        this.live--;
        throw err;
      }
    }
    return new Promise<Worker>((resolve, reject) => {
      const waiter = { resolve, reject };
      this.waiters.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.waiters.indexOf(waiter);
          if (i !== -1) this.waiters.splice(i, 1);
          reject(abortReason(signal));
        },
        { once: true },
      );
    });
  }

  private release(worker: Worker): void {
    const waiter = this.waiters.shift();
    if (waiter) return waiter.resolve(worker);
    if (this.closed) {
      this.live--;
      void worker.terminate();
      return;
    }
    this.thread(worker)?.unref();
    this.idle.push(worker);
  }

  /** A worker was lost: start another if someone is waiting for one. */
  private replace(): void {
    this.live--;
    const waiter = this.waiters.shift();
    if (!waiter) return;
    this.live++;
    this.spawn().then(waiter.resolve, (err: unknown) => {
      this.live--;
      waiter.reject(err);
    });
  }

  /** Recognise text in an image tesseract can read (PNG, JPEG …). */
  async recognize(image: Buffer, signal?: AbortSignal): Promise<Page> {
    const worker = await this.acquire(signal);
    this.thread(worker)?.ref();
    let lost = false;
    try {
      const { data } = await raceAbort(worker.recognize(image, {}, { text: true, blocks: true }), signal, () => {
        lost = true;
        void worker.terminate();
      });
      return data;
    } catch (err) {
      // A rejected recognition may leave the worker in any state: do not reuse it.
      if (!lost) {
        lost = true;
        void worker.terminate();
      }
      throw err;
    } finally {
      if (lost) this.replace();
      else this.release(worker);
    }
  }

  /** Terminate every worker; busy ones are terminated when they finish. */
  async close(): Promise<void> {
    this.closed = true;
    const idle = this.idle.splice(0);
    this.live -= idle.length;
    await Promise.all(idle.map((w) => w.terminate()));
    if (this.langs) await (await this.langs.catch(() => undefined))?.cleanup();
  }
}

export interface PreparedImage {
  readonly png: Buffer;
  /** Preprocessed pixels per original pixel. */
  readonly scale: number;
}

/**
 * Greyscale, upright PNG, enlarged when small (tesseract reads best with
 * capital letters ~20-30 px high) and reduced when huge (time grows with pixels).
 */
export async function prepareForOcr(bytes: Buffer, limits: ImageLimits, signal?: AbortSignal): Promise<PreparedImage> {
  const checked = await raceAbort(checkImage(bytes, limits), signal);
  const longest = Math.max(checked.width, checked.height);
  const scale = longest < 1000 ? 2 : longest > 4000 ? 4000 / longest : 1;
  let pipeline = openImage(bytes, limits);
  if (scale !== 1) {
    pipeline = pipeline.resize({ width: Math.round(checked.width * scale), height: Math.round(checked.height * scale), fit: 'fill', kernel: 'lanczos3' });
  }
  const work = pipeline
    .flatten({ background: '#ffffff' })
    // No contrast stretch: on photos it amplifies noise, which made tesseract slower and less sure.
    .greyscale()
    .png({ compressionLevel: 1 })
    .toBuffer()
    .then((png) => ({ png, scale }))
    .catch((err: unknown) => {
      throw imageError(err);
    });
  return raceAbort(work, signal);
}

/** Flatten tesseract's page into text, confidence and word boxes in original pixels. */
export function summarisePage(page: Page, scale: number): OcrResult {
  const words: OcrWord[] = [];
  const unscale = (v: number) => Math.round(v / scale);
  for (const block of page.blocks ?? []) {
    for (const paragraph of block.paragraphs) {
      for (const line of paragraph.lines) {
        for (const word of line.words) {
          if (words.length >= MAX_WORDS || word.text.trim() === '') continue;
          words.push({
            text: word.text,
            confidence: Math.round(word.confidence * 10) / 10,
            bbox: { x0: unscale(word.bbox.x0), y0: unscale(word.bbox.y0), x1: unscale(word.bbox.x1), y1: unscale(word.bbox.y1) },
          });
        }
      }
    }
  }
  return { text: page.text.trim(), confidence: Math.round(page.confidence * 10) / 10, words };
}

/** Preprocess and recognise one original with a pool. */
export async function ocrImage(pool: OcrPool, bytes: Buffer, limits: ImageLimits, signal?: AbortSignal): Promise<OcrResult> {
  const { png, scale } = await prepareForOcr(bytes, limits, signal);
  const page = await pool.recognize(png, signal);
  return summarisePage(page, scale);
}

let shared: { key: string; pool: OcrPool } | undefined;

/**
 * The process's pool for the ocr step, made on first use. A different language set (tests,
 * a reloaded config) replaces it.
 */
export function sharedOcrPool(options: OcrPoolOptions): OcrPool {
  const key = JSON.stringify([options.langs, options.langDir ?? null, options.size]);
  if (shared?.key !== key) {
    void shared?.pool.close();
    shared = { key, pool: new OcrPool(options) };
  }
  return shared.pool;
}

/** Terminate the shared pool's workers (shutdown). Safe to call when there is none. */
export async function closeSharedOcrPool(): Promise<void> {
  const current = shared;
  shared = undefined;
  await current?.pool.close();
}
