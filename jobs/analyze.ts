import type { StepSpec } from '../src/pipeline/step.js';
import { defineStep } from '../src/pipeline/step.js';
import { analyzeImage } from './lib/analyze.js';

/**
 * Content-safety labels (nsfwjs MobileNetV2, plus an optional user model) and image facts:
 * size, format, dominant colours, sharpness, perceptual hash. Models load on the first run.
 */
export const step: StepSpec = {
  name: 'analyze',
  // Inference runs on the main thread (WASM): more than one at a time only adds latency.
  concurrency: 1,
  // The first run also loads the models (a few seconds).
  timeoutMs: 60_000,
  async run({ bytes, ctx }) {
    const { config } = ctx.services;
    const result = await analyzeImage(bytes, { maxPixels: config.maxImagePixels, modelDir: config.analyzeModelDir, signal: ctx.signal });
    return { ...result };
  },
};

export default defineStep(step);
