import { raceAbort } from '../../src/abort.js';
import type { ImageLimits } from './image.js';
import { checkImage, imageError, openImage } from './image.js';

export interface ThumbnailOptions extends ImageLimits {
  /** Longest side of the box the thumbnail fits inside, px (default 300). */
  readonly size?: number;
  /** WebP quality 1..100 (default 80). */
  readonly quality?: number;
  readonly signal?: AbortSignal;
}

export interface Thumbnail {
  /** WebP bytes. */
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

/**
 * A WebP thumbnail that fits inside size×size, upright per EXIF orientation, never enlarged.
 * Rejects with a PermanentError for input that cannot be read (see checkImage).
 */
export async function makeThumbnail(bytes: Buffer, options: ThumbnailOptions): Promise<Thumbnail> {
  const size = options.size ?? 300;
  await raceAbort(checkImage(bytes, options), options.signal);
  const work = openImage(bytes, options)
    .resize(size, size, { fit: 'inside', withoutEnlargement: true })
    .webp({ quality: options.quality ?? 80 })
    .toBuffer({ resolveWithObject: true })
    .then(({ data, info }) => ({ data, width: info.width, height: info.height }))
    .catch((err: unknown) => {
      throw imageError(err);
    });
  return raceAbort(work, options.signal);
}
