import type { FileRecord, StepName, StepResults } from '../store/types.js';

type Merge<U> = (U extends unknown ? (k: U) => void : never) extends (k: infer I) => void ? I : never;

/** Every step's result merged into one object: what the API shows as a file's `result`. */
export type FileResult = Partial<Merge<StepResults[StepName]>>;

/**
 * One step's result, typed by the step's own schema (the step validated it before it was
 * stored); null until that step completed.
 */
export function stepResult<N extends StepName>(file: FileRecord, name: N): StepResults[N] | null {
  const step = file.steps.find((s) => s.name === name);
  return (step?.result as StepResults[N] | null | undefined) ?? null;
}

/** Every step's result merged into one new object, in step order; null until a step has produced one. */
export function fileResult(file: FileRecord): FileResult | null {
  const withResults = file.steps.filter((s) => s.result);
  return withResults.length === 0 ? null : (Object.assign({}, ...withResults.map((s) => s.result)) as FileResult);
}

/** The API path of a file; `/thumbnail` under it serves the thumbnail. */
export function filePath(fileId: string): string {
  return `/api/v1/files/${encodeURIComponent(fileId)}`;
}
