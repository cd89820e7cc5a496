/** A pool worker for the pool's own tests: echo, spin the CPU, allocate past the heap, fail. */
import { parentPort } from 'node:worker_threads';

import Tinypool from 'tinypool';

import { ErrorCodes, PermanentError } from '../../../src/errors.js';
import { declineSpare, poolTask, type SoftAbortable, softSignal, SPARE } from '../../../src/pool/worker.js';

export interface ProbeTask extends SoftAbortable {
  readonly kind: 'echo' | 'spin' | 'alloc' | 'permanent' | 'soft' | 'spare';
  readonly value?: number;
}

const data = Tinypool.workerData as { hoardAtLoad?: boolean; strayAtLoad?: Int32Array } | undefined;

// A worker that cannot even load within its heap cap (as a step whose libraries outgrow it).
if (data?.hoardAtLoad) {
  const hoard: number[][] = [];
  for (;;) hoard.push(Array.from({ length: 100_000 }, (_, i) => i * Math.random()));
}

// A worker whose 'error' reaches the pool after it is told to stop: tinypool reports a message it
// does not expect as the worker's error, as it does a worker that dies of its heap cap meanwhile.
// The flag paces it with the test: 1 loaded, 2 go, 3 posted.
if (data?.strayAtLoad) {
  const flag = data.strayAtLoad;
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  while (Atomics.load(flag, 0) === 1) Atomics.wait(flag, 0, 1);
  parentPort?.postMessage('stray');
  Atomics.store(flag, 0, 3);
  Atomics.notify(flag, 0);
  for (;;) Math.sqrt(Math.random());
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
    case 'spare': {
      // Wait up to `value` ms for a second core: 1 if granted, else decline it and answer 0.
      const flag = task.spare;
      if (!flag) return -1;
      const deadline = Date.now() + (task.value ?? 0);
      while (Atomics.load(flag, 0) === SPARE.asked && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      if (Atomics.load(flag, 0) === SPARE.granted) return 1;
      declineSpare(flag);
      return 0;
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
