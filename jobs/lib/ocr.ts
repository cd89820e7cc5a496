import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import sharp from 'sharp';
import type { Page, Worker } from 'tesseract.js';

import { abortReason, raceAbort, throwIfAborted } from '../../src/abort.js';
import { type AtomicsWaitAsync, declineSpare, SPARE } from '../../src/pool/worker.js';
import type { ImageLimits } from './image.js';
import { checkImage, imageError, openImage } from './image.js';
import { joinPages, splitAtGap } from './ocr-bands.js';
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

  /** Recognitions this pool can run at once. */
  get parallelism(): number {
    return this.options.size;
  }

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
          spawning.then(
            (w) => w.terminate(),
            () => {},
          );
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

  /** Start every tesseract worker not alive yet, so the next recognition does not pay for it. */
  async warm(): Promise<void> {
    const missing = this.options.size - this.live;
    if (missing <= 0) return;
    const started = await Promise.all(Array.from({ length: missing }, () => this.acquire(undefined)));
    for (const w of started) this.release(w);
  }

  /** Recognise text in an image tesseract can read (PNG, JPEG …). */
  async recognize(image: Buffer, signal?: AbortSignal): Promise<Page> {
    const worker = await this.acquire(signal);
    this.thread(worker)?.ref();
    let lost = false;
    try {
      const { data } = await raceAbort(worker.recognize(image, {}, { text: true, tsv: true }), signal, () => {
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

export interface OcrReadOptions extends ImageLimits {
  /** auto: only when detectText finds text; always; never (config.ocrMode). */
  readonly mode: 'auto' | 'always' | 'never';
  /** Mean confidence 0..100 under which the text is dropped (config.ocrMinConfidence). */
  readonly minConfidence: number;
  /**
   * Turns SPARE.granted when a second core is granted (the step pools' shared slots); absent: read the
   * halves of a long page at once whenever the pool has two tesseracts.
   */
  readonly spare?: Int32Array | undefined;
}

/** What the ocr step records: text, or a step skipped with the reason. */
export type OcrOutcome =
  { readonly status: 'completed'; readonly result: OcrResult & { readonly textReason?: string } } | { readonly status: 'skipped'; readonly reason: string };

/** Greyscale pixels, one byte each. */
export interface GreyImage {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

/** Decode an original once: upright, flattened on white, greyscale, full size. */
export async function decodeGrey(bytes: Buffer, limits: ImageLimits, signal?: AbortSignal): Promise<GreyImage> {
  await raceAbort(checkImage(bytes, limits), signal);
  const work = openImage(bytes, limits)
    .flatten({ background: '#ffffff' })
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true })
    .then(({ data, info }) => {
      if (info.channels !== 1) throw new Error(`greyscale decode gave ${info.channels} channels`);
      return { data, width: info.width, height: info.height };
    })
    .catch((err: unknown) => {
      throw imageError(err);
    });
  return raceAbort(work, signal);
}

export interface TextPresence {
  readonly hasText: boolean;
  /** Median height of the main text lines found, in the image's pixels; undefined without lines. */
  readonly lineHeight: number | undefined;
  /** Text lines found (bands of rows dense in ink strokes). */
  readonly lines: number;
  /** Rows between two consecutive lines, in the image's pixels: where a page can be cut without cutting text. */
  readonly gaps: readonly number[];
}

/** Longest side of the copy the text check looks at, px. */
const CHECK_SIZE = 1024;
/** Ink: a pixel this far (0..255) from its blurred surroundings, either way (dark on light or light on dark). */
const INK_CONTRAST = 48;
/** A row is part of a text line when it crosses ink at least this many times. */
const MIN_ROW_STROKES = 6;

/**
 * A cheap check for text on a small copy: text lines are bands of rows that cross many
 * sharp, high-contrast strokes, separated by rows that cross none. Photos have soft edges and
 * noise below the contrast, and few rows dense in strokes. Costs a resize and one pass.
 */
export async function detectText(grey: GreyImage): Promise<TextPresence> {
  const factor = Math.min(1, CHECK_SIZE / Math.max(grey.width, grey.height));
  const raw = { raw: { width: grey.width, height: grey.height, channels: 1 as const } };
  const small =
    factor < 1
      ? await sharp(grey.data, raw)
          .resize({ width: Math.max(1, Math.round(grey.width * factor)), height: Math.max(1, Math.round(grey.height * factor)), fit: 'fill' })
          .toColourspace('b-w')
          .raw()
          .toBuffer({ resolveWithObject: true })
      : { data: grey.data, info: { width: grey.width, height: grey.height } };
  const { width: w, height: h } = small.info;
  const bg = await sharp(small.data, { raw: { width: w, height: h, channels: 1 } })
    .blur(6)
    .toColourspace('b-w')
    .raw()
    .toBuffer();
  const strokesPerRow: number[] = [];
  let inkPixels = 0;
  for (let y = 0; y < h; y++) {
    let strokes = 0;
    let prev = false;
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const ink = Math.abs((small.data[i] ?? 0) - (bg[i] ?? 0)) > INK_CONTRAST;
      if (ink) inkPixels++;
      if (ink && !prev) strokes++;
      prev = ink;
    }
    strokesPerRow.push(strokes);
  }
  // A line's core is a run of rows dense in strokes (x-height); its height runs on through the
  // rows above and below that still cross ink (ascenders, descenders).
  const bands: Array<{ top: number; bottom: number; height: number; strokes: number }> = [];
  let y = 0;
  while (y < h) {
    if ((strokesPerRow[y] ?? 0) < MIN_ROW_STROKES) {
      y++;
      continue;
    }
    let end = y;
    while (end < h && (strokesPerRow[end] ?? 0) >= MIN_ROW_STROKES) end++;
    // A core of 1–2 rows is an edge, not a line of glyphs.
    if (end - y >= 3) {
      let top = y;
      while (top > 0 && (strokesPerRow[top - 1] ?? 0) > 0) top--;
      let bottom = end;
      while (bottom < h && (strokesPerRow[bottom] ?? 0) > 0) bottom++;
      let strokes = 0;
      for (let r = top; r < bottom; r++) strokes += strokesPerRow[r] ?? 0;
      bands.push({ top, bottom, height: bottom - top, strokes });
      y = bottom;
    } else y = end;
  }
  const inkShare = inkPixels / (w * h);
  const hasText = bands.length >= 1 && inkShare >= 0.002 && inkShare <= 0.4;
  // Line height: the median of the lines that carry most of the strokes (a stray edge band does not count).
  const strong = bands
    .filter((b) => b.strokes >= 0.5 * Math.max(...bands.map((x) => x.strokes)))
    .map((b) => b.height)
    .sort((a, b) => a - b);
  const median = strong[Math.floor(strong.length / 2)];
  const gaps: number[] = [];
  for (let i = 1; i < bands.length; i++) {
    const [prev, next] = [bands[i - 1], bands[i]];
    if (prev && next && next.top > prev.bottom) gaps.push(Math.round((prev.bottom + next.top) / 2 / factor));
  }
  return { hasText, lineHeight: median === undefined ? undefined : median / factor, lines: bands.length, gaps };
}

export interface PreparedImage {
  readonly png: Buffer;
  /** Preprocessed pixels per original pixel. */
  readonly scale: number;
  /** White border added on every side, in preprocessed pixels (text touching the edge is otherwise lost). */
  readonly pad: number;
}

/** Line height tesseract reads best at, px (capitals ~20–30 px). */
const TARGET_LINE_PX = 32;
const PAD_PX = 24;

/**
 * The recognition input from a decoded image: enlarged only when its text lines are small
 * (by the measured line height, not the image size), reduced when huge (time grows with
 * pixels), padded with white, as PNG.
 */
export async function prepareGrey(grey: GreyImage, lineHeight: number | undefined, signal?: AbortSignal): Promise<PreparedImage> {
  const longest = Math.max(grey.width, grey.height);
  let scale = lineHeight !== undefined && lineHeight < 20 ? Math.min(4, TARGET_LINE_PX / Math.max(4, lineHeight)) : 1;
  scale = Math.min(scale, 4000 / longest);
  let pipeline = sharp(grey.data, { raw: { width: grey.width, height: grey.height, channels: 1 } });
  if (Math.abs(scale - 1) > 0.01) {
    pipeline = pipeline.resize({
      width: Math.max(1, Math.round(grey.width * scale)),
      height: Math.max(1, Math.round(grey.height * scale)),
      fit: 'fill',
      kernel: 'lanczos3',
    });
  } else scale = 1;
  // No contrast stretch: on photos it amplifies noise, which made tesseract slower and less sure.
  const work = pipeline
    .extend({ top: PAD_PX, bottom: PAD_PX, left: PAD_PX, right: PAD_PX, background: { r: 255, g: 255, b: 255 } })
    // Raw one-channel input comes out as sRGB unless told: keep one channel (a third of the bytes).
    .toColourspace('b-w')
    // Raw pixels carry no resolution; tesseract warns and guesses 70 dpi. 72 is what a rendered or screen image says.
    .withDensity(72)
    .png({ compressionLevel: 1 })
    .toBuffer()
    .then((png) => ({ png, scale, pad: PAD_PX }));
  return raceAbort(work, signal);
}

/** Preprocess an original for tesseract (one decode; the line height comes from detectText). */
export async function prepareForOcr(bytes: Buffer, limits: ImageLimits, signal?: AbortSignal): Promise<PreparedImage> {
  const grey = await decodeGrey(bytes, limits, signal);
  const presence = await detectText(grey);
  return prepareGrey(grey, presence.lineHeight, signal);
}

/**
 * Flatten tesseract's page into text, confidence and word boxes in original pixels. Words come from
 * tesseract's TSV (written by tesseract itself): tesseract.js's `blocks` walks every symbol in
 * JavaScript, ~5 % of a page's recognition, to give the same boxes.
 */
export function summarisePage(page: Pick<Page, 'text' | 'confidence' | 'tsv'>, scale: number, pad = 0): OcrResult {
  const words: OcrWord[] = [];
  const unscale = (v: number) => Math.max(0, Math.round((v - pad) / scale));
  for (const row of (page.tsv ?? '').split('\n')) {
    if (words.length >= MAX_WORDS) break;
    // level page block paragraph line word left top width height confidence text; level 5 is a word.
    const cells = row.split('\t');
    if (cells[0] !== '5' || cells.length < 12) continue;
    const text = cells.slice(11).join('\t');
    if (text.trim() === '') continue;
    const [left, top, width, height, confidence] = cells.slice(6, 11).map(Number) as [number, number, number, number, number];
    words.push({
      text,
      confidence: Math.round(confidence * 10) / 10,
      bbox: { x0: unscale(left), y0: unscale(top), x1: unscale(left + width), y1: unscale(top + height) },
    });
  }
  return { text: page.text.trim(), confidence: Math.round(page.confidence * 10) / 10, words };
}

/**
 * The ocr step's work: decode once, check for text (OCR_MODE=auto), prepare by line height,
 * recognise, and drop text below the confidence floor (stored as "" with the reason).
 */
export async function readText(pool: OcrPool, bytes: Buffer, options: OcrReadOptions, signal?: AbortSignal): Promise<OcrOutcome> {
  if (options.mode === 'never') {
    declineSpare(options.spare);
    await raceAbort(checkImage(bytes, options), signal);
    return { status: 'skipped', reason: 'OCR is off (OCR_MODE=never)' };
  }
  const grey = await decodeGrey(bytes, options, signal);
  const presence = await detectText(grey);
  if (options.mode === 'auto' && !presence.hasText) {
    declineSpare(options.spare);
    return { status: 'skipped', reason: 'no text found' };
  }
  throwIfAborted(signal);
  // A long page is read as two halves cut between lines, on two tesseract workers when a
  // second core is free: a page is one single-threaded recognition, and that core would
  // otherwise sit idle. Under load the other files' work keeps every core busy.
  const parts = pool.parallelism > 1 ? splitAtGap(grey, presence) : [{ grey, top: 0 }];
  const read = async (part: (typeof parts)[number]) => {
    const { png, scale, pad } = await prepareGrey(part.grey, presence.lineHeight, signal);
    return { result: summarisePage(await pool.recognize(png, signal), scale, pad), top: part.top };
  };
  const [first, second] = parts;
  if (!second) declineSpare(options.spare);
  const pages = second && first && options.spare ? await readWhenGranted(first, second, read, options.spare) : await Promise.all(parts.map(read));
  const result = joinPages(pages, MAX_WORDS);
  if (result.text !== '' && result.confidence < options.minConfidence) {
    return {
      status: 'completed',
      result: {
        text: '',
        confidence: result.confidence,
        words: [],
        textReason: `text confidence ${result.confidence} is below OCR_MIN_CONFIDENCE (${options.minConfidence}): not kept`,
      },
    };
  }
  return { status: 'completed', result };
}

/**
 * The first half at once; the second beside it as soon as a second core is granted (now or
 * while the first is read), otherwise after the first, declining the core.
 */
export async function readWhenGranted<P, R>(first: P, second: P, read: (part: P) => Promise<R>, flag: Int32Array): Promise<R[]> {
  const a = read(first);
  // Each half is one single-threaded recognition: once either ends, the other needs one core,
  // and the granted one goes back to the pool for the other files' work.
  const both = (b: Promise<R>) => {
    void Promise.race([a, b]).then(
      () => declineSpare(flag),
      () => declineSpare(flag),
    );
    return Promise.all([a, b]);
  };
  if (Atomics.load(flag, 0) === SPARE.granted) return both(read(second));
  const wait = (Atomics as unknown as AtomicsWaitAsync).waitAsync(flag, 0, SPARE.asked);
  // The pool notifies when the task ends, so this wait never outlives it.
  const isGranted = () => Atomics.load(flag, 0) === SPARE.granted;
  const granted = wait.async ? wait.value.then(isGranted) : Promise.resolve(isGranted());
  const beside = await Promise.race([a.then(() => false), granted]);
  if (beside) return both(read(second));
  // The second half follows on this core: a core granted now would sit idle.
  declineSpare(flag);
  return [await a, await read(second)];
}

/** Recognise one original with a pool, whatever its confidence (benchmarks, tests). */
export async function ocrImage(pool: OcrPool, bytes: Buffer, limits: ImageLimits, signal?: AbortSignal): Promise<OcrResult> {
  const outcome = await readText(pool, bytes, { ...limits, mode: 'always', minConfidence: 0 }, signal);
  if (outcome.status !== 'completed') throw new Error(outcome.reason);
  return outcome.result;
}

/** Terminate the step pools' workers (shutdown; src/service.ts calls it). */
