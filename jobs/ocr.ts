import type { StepSpec } from '../src/pipeline/step.js';
import { defineStep } from '../src/pipeline/step.js';
import { ocrImage, sharedOcrPool } from './lib/ocr.js';

const CONCURRENCY = 2;

/**
 * Text in the image (tesseract.js, LSTM engine, languages from OCR_LANGS), with word boxes.
 * Workers start on the first run and are reused; shutdown calls closeSharedOcrPool().
 */
export const step: StepSpec = {
  name: 'ocr',
  concurrency: CONCURRENCY,
  // A full page at 300 dpi takes several seconds on one core, plus worker start-up on first use.
  timeoutMs: 120_000,
  async run({ bytes, ctx }) {
    const { config } = ctx.services;
    const pool = sharedOcrPool({ langs: config.ocrLangs, langDir: config.ocrLangDir, size: CONCURRENCY });
    const result = await ocrImage(pool, bytes, { maxPixels: config.maxImagePixels }, ctx.signal);
    return { ...result };
  },
};

export default defineStep(step);
