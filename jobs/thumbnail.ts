import type { StepSpec } from '../src/pipeline/step.js';
import { defineStep } from '../src/pipeline/step.js';
import { defaultPoolSize } from '../src/pool/pool.js';
import { attemptSignals, openThumbnail, sharedStep } from './lib/pools.js';
import { thumbnailKey } from './lib/thumbnail.js';

/** A 300×300-bounded WebP of the original (made in the thumbnail pool's workers), stored beside it in blob storage. */
export const step: StepSpec = {
  name: 'thumbnail',
  // Runs at once = the pool's size (config.pools.thumbnail.size, default every core).
  concurrency: defaultPoolSize(),
  timeoutMs: 30_000,
  derivedBytes: (result) => (typeof result.thumbnailBytes === 'number' ? result.thumbnailBytes : 0),
  async run({ file, bytes, ctx }) {
    const { config } = ctx.services;
    const { timeoutMs, softTimeoutMs, ...pool } = config.pools.thumbnail;
    const thumbnails = sharedStep('thumbnail', pool, () => openThumbnail(pool));
    const limits = attemptSignals('thumbnail', ctx.signal, { timeoutMs, softTimeoutMs });
    try {
      const thumb = await thumbnails.run(bytes, { maxPixels: config.maxImagePixels }, limits.soft, limits.hard);
      // Stored only from a completed task: a terminated attempt leaves no blob.
      const key = thumbnailKey(file.id);
      await ctx.services.blobs.put(key, thumb.data, { contentType: 'image/webp', signal: limits.hard });
      return { thumbnailKey: key, thumbnailWidth: thumb.width, thumbnailHeight: thumb.height, thumbnailBytes: thumb.data.length };
    } finally {
      limits.dispose();
    }
  },
};

export default defineStep(step);
