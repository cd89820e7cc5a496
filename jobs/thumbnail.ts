import type { StepSpec } from '../src/pipeline/step.js';
import { defineStep } from '../src/pipeline/step.js';
import { makeThumbnail, thumbnailKey } from './lib/thumbnail.js';

/** A 300×300-bounded WebP of the original, stored beside it in blob storage. */
export const step: StepSpec = {
  name: 'thumbnail',
  concurrency: 2,
  timeoutMs: 30_000,
  async run({ file, bytes, ctx }) {
    const thumb = await makeThumbnail(bytes, { maxPixels: ctx.services.config.maxImagePixels, signal: ctx.signal });
    const key = thumbnailKey(file.id);
    await ctx.services.blobs.put(key, thumb.data, { contentType: 'image/webp', signal: ctx.signal });
    // Derived blobs count against the owner's quota.
    await ctx.services.store.reports.addDerivedBytes(file.id, thumb.data.length);
    return { thumbnailKey: key, thumbnailWidth: thumb.width, thumbnailHeight: thumb.height };
  },
};

export default defineStep(step);
