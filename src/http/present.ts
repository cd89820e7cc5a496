import { filePath, type FileResult, fileResult } from '../pipeline/result.js';
import type { FileRecord } from '../store/types.js';

export interface PresentOptions {
  /** Keep OCR's per-word boxes (`?include=words`); left out by default, they are most of a file's size. */
  readonly words?: boolean;
}

/** The API's view of a file: steps keyed by name and every step's result merged into `result`. */
export function presentFile(file: FileRecord, publicUrl: string | undefined, options: PresentOptions = {}) {
  const steps: Record<string, { status: string; attempts: number; durationMs: number | null; error: string | null }> = {};
  for (const step of file.steps) {
    steps[step.name] = { status: step.status, attempts: step.attempts, durationMs: step.durationMs, error: step.error };
  }
  let merged = fileResult(file);
  if (merged?.words !== undefined && !options.words) {
    const { words: _words, ...compact } = merged;
    merged = compact;
  }
  let result: (Omit<FileResult, 'thumbnailKey'> & { thumbnailUrl?: string }) | null = merged;
  if (merged?.thumbnailKey !== undefined) {
    const { thumbnailKey: _key, ...rest } = merged;
    result = { ...rest, thumbnailUrl: `${publicUrl ?? ''}${filePath(file.id)}/thumbnail` };
  }
  return {
    id: file.id,
    owner: file.owner,
    filename: file.filename,
    contentType: file.contentType,
    size: file.size,
    status: file.status,
    steps,
    result,
    error: file.error,
    uploadedAt: file.uploadedAt.toISOString(),
    startedAt: file.startedAt?.toISOString() ?? null,
    completedAt: file.completedAt?.toISOString() ?? null,
  };
}

/**
 * What a person called the file, safe to store and show: the last path segment, no control
 * or bidi characters, at most 255 bytes. Never used to build a path.
 */
export function sanitizeFilename(name: string | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  let clean = base.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '').trim();
  if (clean === '' || clean === '.' || clean === '..') clean = 'upload';
  while (Buffer.byteLength(clean) > 255) clean = clean.slice(0, -1);
  return clean;
}
