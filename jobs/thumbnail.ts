import type { StepSpec } from '../src/pipeline/step.js';
import { defineStep } from '../src/pipeline/step.js';
import { makeThumbnail, thumbnailKey } from './lib/thumbnail.js';

/** A 300×300-bounded WebP of the original, stored beside it in blob storage. */
export const step: StepSpec = {
  name: 'thumbnail',
  concurrency: 2,
  timeoutMs: 30_000,
  derivedBytes: (result) => (typeof result.thumbnailBytes === 'number' ? result.thumbnailBytes : 0),
  async run({ file, bytes, ctx }) {
    const thumb = await makeThumbnail(bytes, { maxPixels: ctx.services.config.maxImagePixels, signal: ctx.signal });
    const key = thumbnailKey(file.id);
    await ctx.services.blobs.put(key, thumb.data, { contentType: 'image/webp', signal: ctx.signal });
    return { thumbnailKey: key, thumbnailWidth: thumb.width, thumbnailHeight: thumb.height, thumbnailBytes: thumb.data.length };
  },
};

export default defineStep(step);
