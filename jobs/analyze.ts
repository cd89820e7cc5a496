import { z } from 'zod';

import { defineStep, type StepSpec } from '../src/pipeline/step.js';
import { analyzeImage } from './lib/analyze.js';

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
 * size, format, dominant colours, sharpness, perceptual hash. Models load on the first run.
 */
export const step: StepSpec<'analyze'> = {
  name: 'analyze',
  description: 'content-safety labels and image facts (size, colours, sharpness, perceptual hash)',
  result: AnalyzeResult,
  defaults: {
    // Inference runs on the main thread (WASM): more than one at a time only adds latency.
    concurrency: 1,
    attempts: 3,
    backoffMs: 1_000,
    // The first run also loads the models (a few seconds).
    timeoutMs: 60_000,
  },
  async run({ bytes, ctx }) {
    const { config } = ctx.services;
    return analyzeImage(bytes, { maxPixels: config.maxImagePixels, modelDir: config.analyzeModelDir, signal: ctx.signal });
  },
};

export default defineStep(step);
