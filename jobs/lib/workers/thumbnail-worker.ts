/** Pool worker of the thumbnail step: decode and WebP encode off the main thread. */
import { asBuffer, poolTask, type SoftAbortable, softSignal } from '../../../src/pool/worker.js';
import { makeThumbnail } from '../thumbnail.js';

export interface ThumbnailTask extends SoftAbortable {
  readonly bytes: Uint8Array;
  readonly maxPixels: number;
  readonly size?: number;
  readonly quality?: number;
}

export default poolTask(async (task: ThumbnailTask) => {
  const soft = softSignal(task.softAbort, 'thumbnail took longer than its soft time limit');
  try {
    const { bytes, softAbort: _, started: __, ...options } = task;
    return await makeThumbnail(asBuffer(bytes), { ...options, ...(soft.signal ? { signal: soft.signal } : {}) });
  } finally {
    soft.dispose();
  }
});
