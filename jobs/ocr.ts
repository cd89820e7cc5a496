import { z } from 'zod';

import { defineStep, type StepSpec } from '../src/pipeline/step.js';
import { closeSharedOcrPool, ocrImage, sharedOcrPool } from './lib/ocr.js';

/** What ocr records on the file: the text, its mean confidence and (some of) its words with boxes. */
export const OcrResult = z.object({
  text: z.string(),
  /** Mean word confidence 0..100. */
  confidence: z.number(),
  /** Words with boxes in the original's pixels (the API leaves them out unless asked). */
  words: z
    .array(z.object({ text: z.string(), confidence: z.number(), bbox: z.object({ x0: z.number(), y0: z.number(), x1: z.number(), y1: z.number() }) }))
    .optional(),
});

declare module '../src/store/types.js' {
  interface StepResults {
    ocr: z.infer<typeof OcrResult>;
  }
}

/**
 * Text in the image (tesseract.js, LSTM engine, languages from OCR_LANGS), with word boxes.
 * Workers start on the first run and are reused; `close` stops them at shutdown.
 */
export const step: StepSpec<'ocr'> = {
  name: 'ocr',
  description: 'text in the image (tesseract.js, languages from OCR_LANGS), with word boxes',
  result: OcrResult,
  // A full page at 300 dpi takes several seconds on one core, plus worker start-up on first use.
  defaults: { concurrency: 2, attempts: 3, backoffMs: 1_000, timeoutMs: 120_000 },
  async run({ bytes, ctx }) {
    const { config } = ctx.services;
    const pool = sharedOcrPool({ langs: config.ocrLangs, langDir: config.ocrLangDir, size: ctx.options.concurrency });
    return ocrImage(pool, bytes, { maxPixels: config.maxImagePixels }, ctx.signal);
  },
  close: () => closeSharedOcrPool(),
};

export default defineStep(step);
