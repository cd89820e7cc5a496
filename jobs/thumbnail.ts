import { z } from 'zod';

import { thumbnailKey } from '../src/blobs/keys.js';
import { defineStep, type StepSpec } from '../src/pipeline/step.js';
import { makeThumbnail } from './lib/thumbnail.js';

/** What thumbnail records on the file: where the WebP is and its size. */
export const ThumbnailResult = z.object({
  thumbnailKey: z.string(),
  thumbnailWidth: z.number().int(),
  thumbnailHeight: z.number().int(),
  thumbnailBytes: z.number().int(),
});

declare module '../src/store/types.js' {
  interface StepResults {
    thumbnail: z.infer<typeof ThumbnailResult>;
  }
}

/** A 300×300-bounded WebP of the original, stored beside it in blob storage. */
export const step: StepSpec<'thumbnail'> = {
  name: 'thumbnail',
  description: 'a WebP thumbnail that fits 300×300, stored beside the original',
  result: ThumbnailResult,
  defaults: { concurrency: 2, attempts: 3, backoffMs: 1_000, timeoutMs: 30_000 },
  derivedBytes: (result) => result.thumbnailBytes,
  async run({ file, bytes, ctx }) {
    const thumb = await makeThumbnail(bytes, { maxPixels: ctx.services.config.maxImagePixels, signal: ctx.signal });
    const key = thumbnailKey(file.id);
    await ctx.services.blobs.put(key, thumb.data, { contentType: 'image/webp', signal: ctx.signal });
    return { thumbnailKey: key, thumbnailWidth: thumb.width, thumbnailHeight: thumb.height, thumbnailBytes: thumb.data.length };
  },
};

export default defineStep(step);
