import { z } from 'zod';

import { defineStep, type StepSpec } from '../src/pipeline/step.js';
import { closeStepPools, openAnalyze, poolOf, sharedStep } from './lib/pools.js';

/** What analyze records on the file: labels from every model and the image's facts. */
export const AnalyzeResult = z.object({
  width: z.number().int(),
  height: z.number().int(),
  format: z.string(),
  mime: z.string(),
  /** Up to five colours, most common first. */
  dominantColours: z.array(z.object({ hex: z.string(), share: z.number() })),
  /** Variance of the Laplacian: higher is sharper; under ~100 usually looks blurred. */
  sharpness: z.number(),
  /** 64-bit difference hash as 16 hex digits. */
  dhash: z.string(),
  /** Every label from every model, highest score first. */
  labels: z.array(z.object({ label: z.string(), score: z.number(), source: z.enum(['nsfw', 'custom']) })),
  backend: z.enum(['tensorflow', 'wasm', 'cpu']),
});

declare module '../src/store/types.js' {
  interface StepResults {
    analyze: z.infer<typeof AnalyzeResult>;
  }
}

/**
 * Content-safety labels (nsfwjs MobileNetV2, plus an optional user model) and image facts:
 * size, format, dominant colours, sharpness, perceptual hash, in the analyze pool's worker
 * threads. Models load once per worker, on its first run.
 */
export const step: StepSpec<'analyze'> = {
  name: 'analyze',
  description: 'content-safety labels and image facts (size, colours, sharpness, perceptual hash)',
  result: AnalyzeResult,
  // Runs at once = the pool's size, every core by default; a worker's first run also loads the models.
  defaults: { concurrency: 'cores', attempts: 3, backoffMs: 1_000, timeoutMs: 60_000 },
  async run({ bytes, ctx }) {
    const { config } = ctx.services;
    const pool = poolOf(config, 'analyze');
    const analyze = sharedStep('analyze', pool, () => openAnalyze(pool));
    return { ...(await analyze.run(bytes, { maxPixels: config.maxImagePixels, modelDir: config.analyzeModelDir }, ctx.signal, ctx.hardSignal, ctx.clock)) };
  },
  close: () => closeStepPools(),
};

export default defineStep(step);
