import { z } from 'zod';

import { thumbnailKey } from '../src/blobs/keys.js';
import { defineStep, type StepSpec } from '../src/pipeline/step.js';
import { closeStepPools, openThumbnail, poolOf, sharedStep } from './lib/pools.js';

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

/** A 300×300-bounded WebP of the original (made in the thumbnail pool's workers), stored beside it in blob storage. */
export const step: StepSpec<'thumbnail'> = {
  name: 'thumbnail',
  description: 'a WebP thumbnail that fits 300×300, stored beside the original',
  result: ThumbnailResult,
  defaults: { concurrency: 'cores', attempts: 3, backoffMs: 1_000, timeoutMs: 30_000 },
  derivedBytes: (result) => result.thumbnailBytes,
  async run({ file, bytes, ctx }) {
    const { config } = ctx.services;
    const pool = poolOf(config, 'thumbnail');
    const thumbnails = sharedStep('thumbnail', pool, () => openThumbnail(pool));
    const thumb = await thumbnails.run(bytes, { maxPixels: config.maxImagePixels }, ctx.signal, ctx.hardSignal, ctx.clock);
    // Stored only from a completed task: a terminated attempt leaves no blob.
    const key = thumbnailKey(file.id);
    await ctx.services.blobs.put(key, thumb.data, { contentType: 'image/webp', signal: ctx.hardSignal });
    return { thumbnailKey: key, thumbnailWidth: thumb.width, thumbnailHeight: thumb.height, thumbnailBytes: thumb.data.length };
  },
  close: () => closeStepPools(),
};

export default defineStep(step);
