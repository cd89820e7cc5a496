import type { StepSpec } from '../src/pipeline/step.js';
import { defineStep } from '../src/pipeline/step.js';
import { defaultPoolSize } from '../src/pool/pool.js';
import { attemptSignals, openAnalyze, sharedStep } from './lib/pools.js';

/**
 * Content-safety labels (nsfwjs MobileNetV2, plus an optional user model) and image facts:
 * size, format, dominant colours, sharpness, perceptual hash, in the analyze pool's worker
 * threads. Models load once per worker, on its first run.
 */
export const step: StepSpec = {
  name: 'analyze',
  // Runs at once = the pool's size (config.pools.analyze.size, default every core).
  concurrency: defaultPoolSize(),
  // The first run in a worker also loads the models (a few seconds).
  timeoutMs: 60_000,
  async run({ bytes, ctx }) {
    const { config } = ctx.services;
    const { timeoutMs, softTimeoutMs, ...pool } = config.pools.analyze;
    const analyze = sharedStep('analyze', pool, () => openAnalyze(pool));
    const limits = attemptSignals('analyze', ctx.signal, { timeoutMs, softTimeoutMs });
    try {
      return { ...(await analyze.run(bytes, { maxPixels: config.maxImagePixels, modelDir: config.analyzeModelDir }, limits.soft, limits.hard)) };
    } finally {
      limits.dispose();
    }
  },
};

export default defineStep(step);
