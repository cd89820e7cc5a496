import type { StepSpec } from '../src/pipeline/step.js';
import { defineStep, StepSkipped } from '../src/pipeline/step.js';
import { defaultPoolSize } from '../src/pool/pool.js';
import { attemptSignals, openOcr, sharedStep } from './lib/pools.js';

/**
 * Text in the image (tesseract.js, LSTM engine, languages from OCR_LANGS), with word boxes, in
 * the ocr pool's worker threads. OCR_MODE=auto skips images without text; text below
 * OCR_MIN_CONFIDENCE is stored as "" with the reason. Shutdown calls closeSharedOcrPool().
 */
export const step: StepSpec = {
  name: 'ocr',
  // Runs at once = the pool's size (config.pools.ocr.size, default every core).
  concurrency: defaultPoolSize(),
  // A full page at 300 dpi takes several seconds on one core, plus worker start-up on first use.
  timeoutMs: 120_000,
  async run({ bytes, ctx }) {
    const { config } = ctx.services;
    const { timeoutMs, softTimeoutMs, ...pool } = config.pools.ocr;
    const ocr = sharedStep('ocr', [pool, config.ocrLangs, config.ocrLangDir], () => openOcr({ ...pool, langs: config.ocrLangs, langDir: config.ocrLangDir }));
    const limits = attemptSignals('ocr', ctx.signal, { timeoutMs, softTimeoutMs });
    try {
      const outcome = await ocr.run(bytes, { maxPixels: config.maxImagePixels, mode: config.ocrMode, minConfidence: config.ocrMinConfidence }, limits.soft, limits.hard);
      return outcome.status === 'skipped' ? new StepSkipped(outcome.reason) : { ...outcome.result };
    } finally {
      limits.dispose();
    }
  },
};

export default defineStep(step);
