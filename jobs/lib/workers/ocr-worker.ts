/**
 * Pool worker of the ocr step: one tesseract.js worker per pool worker, started on first use
 * and kept. Terminating this thread (the hard limit, idle exit, recycling) terminates tesseract's
 * thread with it.
 */
import Tinypool from 'tinypool';

import { asBuffer, poolTask, type SoftAbortable, softSignal } from '../../../src/pool/worker.js';
import { OcrPool, readText } from '../ocr.js';

export interface OcrWorkerData {
  readonly langs: readonly string[];
  readonly langDir?: string | undefined;
}

export interface OcrTask extends SoftAbortable {
  readonly bytes: Uint8Array;
  readonly maxPixels: number;
  readonly mode: 'auto' | 'always' | 'never';
  readonly minConfidence: number;
}

let tesseract: OcrPool | undefined;

/**
 * Two tesseract workers per pool worker: a long page is read as two halves at once
 * (jobs/lib/ocr-bands.ts) when the pool grants the task a spare core, so one page uses both
 * cores of an idle machine.
 */
const TESSERACTS = 2;

function engine(): OcrPool {
  const data = Tinypool.workerData as OcrWorkerData;
  return (tesseract ??= new OcrPool({ langs: data.langs, langDir: data.langDir, size: TESSERACTS }));
}

export default poolTask(
  async (task: OcrTask) => {
    const soft = softSignal(task.softAbort, 'ocr took longer than its soft time limit');
    try {
      return await readText(engine(), asBuffer(task.bytes), task, soft.signal);
    } finally {
      soft.dispose();
    }
  },
  // tesseract starts before the task's clock does: a fresh worker's start-up is not the image's cost.
  () => engine().warm(),
);
