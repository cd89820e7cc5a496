import type { Metadata, Sharp } from 'sharp';
import sharp from 'sharp';

import { ErrorCodes, NightshiftError, PermanentError } from '../../src/errors.js';
import { isProcessableImage, SNIFF_BYTES, sniffType } from './sniff.js';

export interface ImageLimits {
  /** Largest decoded image in pixels (width × height); config.maxImagePixels. */
  readonly maxPixels: number;
}

export interface CheckedImage {
  readonly width: number;
  readonly height: number;
  /** sharp's format name: jpeg, png, webp, gif, tiff, heif … */
  readonly format: string;
  /** Sniffed MIME type of the bytes. */
  readonly mime: string;
  /** EXIF orientation 1..8, when present. */
  readonly orientation: number | undefined;
}

const megapixels = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} megapixels`;

/**
 * Turn a sharp/libvips failure into an error a person can act on. Decoder messages are kept in
 * parentheses: they name what is wrong ("premature end of JPEG image").
 */
export function imageError(err: unknown): Error {
  if (err instanceof NightshiftError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  if (/exceeds pixel limit/i.test(detail)) {
    return new PermanentError(ErrorCodes.IMAGE_TOO_LARGE, `image is larger than the pixel limit (MAX_IMAGE_PIXELS) (${detail})`, { cause: err });
  }
  if (/unsupported image format/i.test(detail)) {
    return new PermanentError(ErrorCodes.UNSUPPORTED_TYPE, `file is not an image this service can read (${detail})`, { cause: err });
  }
  if (/premature end|truncated|corrupt|invalid|bad |not a |unexpected end|read error|no image|CRC/i.test(detail)) {
    return new PermanentError(ErrorCodes.CORRUPT_IMAGE, `image is truncated or corrupt (${detail}); upload the file again`, { cause: err });
  }
  // Anything else (out of memory, a libvips bug) may pass on another attempt.
  return err instanceof Error ? err : new Error(detail);
}

/**
 * Check an original before any pixel is decoded: the bytes must sniff as an image sharp can
 * decode, and the header's dimensions must fit the pixel limit. Reading the header is cheap
 * even for a decompression bomb.
 */
export async function checkImage(bytes: Buffer, limits: ImageLimits): Promise<CheckedImage> {
  if (bytes.length === 0) throw new PermanentError(ErrorCodes.EMPTY_FILE, 'file is empty (0 bytes); upload it again');
  const sniffed = sniffType(bytes.subarray(0, SNIFF_BYTES));
  if (!isProcessableImage(sniffed.mime)) {
    throw new PermanentError(
      ErrorCodes.UNSUPPORTED_TYPE,
      `file content is ${sniffed.mime}, not an image this service can read (JPEG, PNG, WebP, GIF, TIFF, AVIF), whatever its name says`,
    );
  }
  let meta: Metadata;
  try {
    // No pixel limit here: only the header is read, and our own check below says more.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw imageError(err);
  }
  const { width, height } = meta;
  if (!width || !height) throw new PermanentError(ErrorCodes.CORRUPT_IMAGE, 'image is truncated or corrupt (its header has no dimensions)');
  // sharp decodes the first page/frame only, so one frame's pixels are what a step opens.
  const pixels = width * height;
  if (pixels > limits.maxPixels) {
    throw new PermanentError(
      ErrorCodes.IMAGE_TOO_LARGE,
      `image is ${width}×${height} (${megapixels(pixels)}), over the limit of ${megapixels(limits.maxPixels)} (MAX_IMAGE_PIXELS); resize it before uploading`,
    );
  }
  return { width, height, format: meta.format ?? 'unknown', mime: sniffed.mime, orientation: meta.orientation };
}

/**
 * A sharp pipeline over checked bytes: pixel limit enforced again by libvips, and a truncated
 * or damaged file fails instead of decoding to grey.
 */
export function openImage(bytes: Buffer, limits: ImageLimits): Sharp {
  return sharp(bytes, { limitInputPixels: limits.maxPixels, failOn: 'truncated' }).rotate();
}
