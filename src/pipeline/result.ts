import type { FileRecord } from '../store/types.js';

/** Every step's result merged into one new object, in step order; null until a step has produced one. */
export function fileResult(file: FileRecord): Record<string, unknown> | null {
  const withResults = file.steps.filter((s) => s.result);
  return withResults.length === 0 ? null : Object.assign({}, ...withResults.map((s) => s.result));
}

/** The API path of a file; `/thumbnail` under it serves the thumbnail. */
export function filePath(fileId: string): string {
  return `/api/v1/files/${encodeURIComponent(fileId)}`;
}
