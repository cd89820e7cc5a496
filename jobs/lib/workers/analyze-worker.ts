/** Pool worker of the analyze step: TensorFlow.js and the models load once per worker. */
import { asBuffer, poolTask, type SoftAbortable, softSignal } from '../../../src/pool/worker.js';
import { analyzeImage, warmAnalyze } from '../analyze.js';

export interface AnalyzeTask extends SoftAbortable {
  readonly bytes: Uint8Array;
  readonly maxPixels: number;
  readonly modelDir?: string | undefined;
}

export default poolTask(
  async (task: AnalyzeTask) => {
    const soft = softSignal(task.softAbort, 'analyze took longer than its soft time limit');
    try {
      return await analyzeImage(asBuffer(task.bytes), { maxPixels: task.maxPixels, modelDir: task.modelDir, signal: soft.signal });
    } finally {
      soft.dispose();
    }
  },
  async (task) => {
    await warmAnalyze(task.modelDir);
  },
);
