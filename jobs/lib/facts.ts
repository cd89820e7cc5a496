import sharp from 'sharp';

import { raceAbort } from '../../src/abort.js';
import type { CheckedImage, ImageLimits } from './image.js';
import { checkImage, imageError, openImage } from './image.js';

/** Interleaved 8-bit RGB pixels. */
export interface RgbImage {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

export interface DominantColour {
  /** '#rrggbb' */
  readonly hex: string;
  /** Share of the image's pixels near this colour, 0..1. */
  readonly share: number;
}

export interface ImageFacts {
  readonly width: number;
  readonly height: number;
  readonly format: string;
  readonly mime: string;
  /** Up to five colours, most common first. */
  readonly dominantColours: DominantColour[];
  /** Variance of the Laplacian on a ≤512 px greyscale copy: higher is sharper; under ~100 usually looks blurred. */
  readonly sharpness: number;
  /** 64-bit difference hash (dHash) as 16 hex digits: near-duplicates differ in few bits. */
  readonly dhash: string;
}

/** Longest side of the working copy every fact is computed on. */
const WORK_SIZE = 512;

/**
 * Check and decode an original once into a small upright RGB working copy. Everything the
 * analyze step measures is computed from this copy, so the original is decoded only once.
 */
export async function decodeWorkingCopy(bytes: Buffer, limits: ImageLimits, signal?: AbortSignal): Promise<{ checked: CheckedImage; rgb: RgbImage }> {
  const checked = await raceAbort(checkImage(bytes, limits), signal);
  const work = openImage(bytes, limits)
    .resize(WORK_SIZE, WORK_SIZE, { fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
    .then(({ data, info }) => ({ checked, rgb: { data, width: info.width, height: info.height } }))
    .catch((err: unknown) => {
      throw imageError(err);
    });
  return raceAbort(work, signal);
}

/** Resize a working copy to exactly size×size RGB (a model input), stretching. */
export async function resizeRgb(rgb: RgbImage, width: number, height: number): Promise<RgbImage> {
  const { data, info } = await sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

const hex2 = (n: number) => Math.round(n).toString(16).padStart(2, '0');

/** Most common colours, by 4-bit-per-channel buckets averaged back to full colour. */
export function dominantColours(rgb: RgbImage, max = 5, minShare = 0.01): DominantColour[] {
  const count = new Uint32Array(4096);
  const sums = new Float64Array(4096 * 3);
  const n = rgb.width * rgb.height;
  const d = rgb.data;
  for (let i = 0; i < n; i++) {
    const r = d[i * 3] ?? 0;
    const g = d[i * 3 + 1] ?? 0;
    const b = d[i * 3 + 2] ?? 0;
    const bucket = ((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4);
    count[bucket] = (count[bucket] ?? 0) + 1;
    sums[bucket * 3] = (sums[bucket * 3] ?? 0) + r;
    sums[bucket * 3 + 1] = (sums[bucket * 3 + 1] ?? 0) + g;
    sums[bucket * 3 + 2] = (sums[bucket * 3 + 2] ?? 0) + b;
  }
  const buckets = [...count.keys()].filter((k) => (count[k] ?? 0) / n >= minShare);
  buckets.sort((a, b) => (count[b] ?? 0) - (count[a] ?? 0));
  return buckets.slice(0, max).map((k) => {
    const c = count[k] ?? 1;
    const hex = `#${hex2((sums[k * 3] ?? 0) / c)}${hex2((sums[k * 3 + 1] ?? 0) / c)}${hex2((sums[k * 3 + 2] ?? 0) / c)}`;
    return { hex, share: Math.round((c / n) * 1000) / 1000 };
  });
}

function luma(rgb: RgbImage): Float32Array {
  const n = rgb.width * rgb.height;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = 0.299 * (rgb.data[i * 3] ?? 0) + 0.587 * (rgb.data[i * 3 + 1] ?? 0) + 0.114 * (rgb.data[i * 3 + 2] ?? 0);
  }
  return out;
}

/** Variance of the 4-neighbour Laplacian of the luma channel. */
export function laplacianVariance(rgb: RgbImage): number {
  const { width: w, height: h } = rgb;
  if (w < 3 || h < 3) return 0;
  const y = luma(rgb);
  let sum = 0;
  let sumSq = 0;
  for (let r = 1; r < h - 1; r++) {
    for (let c = 1; c < w - 1; c++) {
      const i = r * w + c;
      const v = (y[i - 1] ?? 0) + (y[i + 1] ?? 0) + (y[i - w] ?? 0) + (y[i + w] ?? 0) - 4 * (y[i] ?? 0);
      sum += v;
      sumSq += v * v;
    }
  }
  const n = (w - 2) * (h - 2);
  const mean = sum / n;
  return Math.round((sumSq / n - mean * mean) * 100) / 100;
}

/** dHash: 9×8 greyscale, one bit per horizontal neighbour pair (left brighter than right). */
export async function differenceHash(rgb: RgbImage): Promise<string> {
  const small = await sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
    .greyscale()
    .resize(9, 8, { fit: 'fill' })
    .raw()
    .toBuffer();
  let bits = 0n;
  for (let r = 0; r < 8; r++) {
    for (let c = 0; c < 8; c++) {
      bits = (bits << 1n) | ((small[r * 9 + c] ?? 0) > (small[r * 9 + c + 1] ?? 0) ? 1n : 0n);
    }
  }
  return bits.toString(16).padStart(16, '0');
}

/** Hamming distance between two dHash strings (0 = same picture, ≤10 = near duplicate). */
export function hashDistance(a: string, b: string): number {
  let x = BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
  let n = 0;
  while (x) {
    n += Number(x & 1n);
    x >>= 1n;
  }
  return n;
}

export async function computeFacts(checked: CheckedImage, rgb: RgbImage): Promise<ImageFacts> {
  // EXIF orientations 5..8 turn the picture a quarter: report it as it is displayed.
  const turned = (checked.orientation ?? 1) >= 5;
  return {
    width: turned ? checked.height : checked.width,
    height: turned ? checked.width : checked.height,
    format: checked.format,
    mime: checked.mime,
    dominantColours: dominantColours(rgb),
    sharpness: laplacianVariance(rgb),
    dhash: await differenceHash(rgb),
  };
}
