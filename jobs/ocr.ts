import { z } from 'zod';

import { defineStep, StepSkipped, type StepSpec } from '../src/pipeline/step.js';
import { closeStepPools, openOcr, poolOf, sharedStep } from './lib/pools.js';

/** What ocr records on the file: the text, its mean confidence and (some of) its words with boxes. */
export const OcrResult = z.object({
  text: z.string(),
  /** Mean word confidence 0..100. */
  confidence: z.number(),
  /** Words with boxes in the original's pixels (the API leaves them out unless asked). */
  words: z
    .array(z.object({ text: z.string(), confidence: z.number(), bbox: z.object({ x0: z.number(), y0: z.number(), x1: z.number(), y1: z.number() }) }))
    .optional(),
  /** Why `text` is empty although the image was read (confidence below OCR_MIN_CONFIDENCE). */
  textReason: z.string().optional(),
});

declare module '../src/store/types.js' {
  interface StepResults {
    ocr: z.infer<typeof OcrResult>;
  }
}

/**
 * Text in the image (tesseract.js, LSTM engine, languages from OCR_LANGS), with word boxes, in
 * the ocr pool's worker threads. OCR_MODE=auto skips images without text; text below
 * OCR_MIN_CONFIDENCE is stored as "" with the reason. The pool starts on the first run.
 */
export const step: StepSpec<'ocr'> = {
  name: 'ocr',
  description: 'text in the image (tesseract.js, languages from OCR_LANGS), with word boxes; skipped where a quick check finds no text (OCR_MODE)',
  result: OcrResult,
  // Runs at once = the pool's size, every core by default. A full page at 300 dpi takes several
  // seconds on one core, plus worker start-up on first use.
  defaults: { concurrency: 'cores', attempts: 3, backoffMs: 1_000, timeoutMs: 120_000 },
  async run({ bytes, ctx }) {
    const { config } = ctx.services;
    const pool = poolOf(config, 'ocr');
    const ocr = sharedStep('ocr', [pool, config.ocrLangs, config.ocrLangDir], () => openOcr({ ...pool, langs: config.ocrLangs, langDir: config.ocrLangDir }));
    const outcome = await ocr.run(
      bytes,
      { maxPixels: config.maxImagePixels, mode: config.ocrMode, minConfidence: config.ocrMinConfidence },
      ctx.signal,
      ctx.hardSignal,
      ctx.clock,
    );
    return outcome.status === 'skipped' ? new StepSkipped(outcome.reason) : { ...outcome.result };
  },
  close: () => closeStepPools(),
};

export default defineStep(step);
