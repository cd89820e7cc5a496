/** A pool worker for the pool's own tests: echo, spin the CPU, allocate past the heap, fail. */
import { ErrorCodes, PermanentError } from '../../../src/errors.js';
import { poolTask, type SoftAbortable, softSignal } from '../../../src/pool/worker.js';

export interface ProbeTask extends SoftAbortable {
  readonly kind: 'echo' | 'spin' | 'alloc' | 'permanent' | 'soft';
  readonly value?: number;
}

export default poolTask(async (task: ProbeTask) => {
  switch (task.kind) {
    case 'echo':
      return task.value ?? 0;
    case 'spin': {
      // Ignores every signal: only terminating the thread stops it.
      for (;;) Math.sqrt(Math.random());
    }
    case 'alloc': {
      const hoard: number[][] = [];
      for (;;) hoard.push(Array.from({ length: 100_000 }, (_, i) => i * Math.random()));
    }
    case 'permanent':
      throw new PermanentError(ErrorCodes.CORRUPT_IMAGE, 'the input is broken');
    case 'soft': {
      const soft = softSignal(task.softAbort, 'soft limit reached');
      try {
        await new Promise<void>((_resolve, reject) => {
          if (soft.signal?.aborted) reject(soft.signal.reason as Error);
          soft.signal?.addEventListener('abort', () => reject(soft.signal?.reason as Error));
        });
        return -1;
      } finally {
        soft.dispose();
      }
    }
  }
});
