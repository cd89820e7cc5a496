import type { FileRecord, StepRecord } from './types.js';

/** The status and reason a file ends with once every step is final: failed, naming its first failed step, else completed. */
export function finalOutcome(steps: readonly StepRecord[]): { status: 'completed' | 'failed'; error: string | null } {
  const failed = steps.find((s) => s.status === 'failed');
  return failed ? { status: 'failed', error: `${failed.name}: ${failed.error ?? 'failed'}` } : { status: 'completed', error: null };
}

/** Whether the file is processing with every step final: ready to finalize. */
export function readyToFinalize(file: FileRecord): boolean {
  return file.status === 'processing' && file.steps.every((s) => s.status !== 'pending' && s.status !== 'running');
}
