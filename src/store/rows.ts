import type { Selectable } from 'kysely';

import type { FilesTable, FileStepsTable } from './schema.js';
import type { FileRecord, StepRecord } from './types.js';

export type FileRow = Selectable<FilesTable>;
export type StepRow = Selectable<FileStepsTable>;

export const toNumber = (v: number | string): number => (typeof v === 'number' ? v : Number(v));
export const toDate = (v: number | string): Date => new Date(toNumber(v));
export const toDateOrNull = (v: number | string | null): Date | null => (v === null ? null : toDate(v));

/** A JSON column's value (parsed on PostgreSQL, text on SQLite) as a plain value. */
export function parseJson(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? JSON.parse(v) : v;
}

export function toJsonObject(v: unknown): Record<string, unknown> | null {
  if (v === null || v === undefined) return null;
  const parsed: unknown = typeof v === 'string' ? JSON.parse(v) : v;
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
}

export function stepFromRow(r: StepRow): StepRecord {
  return {
    name: r.name,
    status: r.status,
    attempts: r.attempts,
    durationMs: r.duration_ms,
    error: r.error,
    startedAt: toDateOrNull(r.started_at),
    finishedAt: toDateOrNull(r.finished_at),
    heartbeatAt: toDateOrNull(r.heartbeat_at),
    result: toJsonObject(r.result),
  };
}

/** `steps` must already be this file's rows in position order. */
export function fileFromRow(r: FileRow, steps: readonly StepRow[]): FileRecord {
  return {
    id: r.id,
    owner: r.owner,
    filename: r.filename,
    contentType: r.content_type,
    size: toNumber(r.size),
    blobKey: r.blob_key,
    status: r.status,
    error: r.error,
    uploadedAt: toDate(r.uploaded_at),
    startedAt: toDateOrNull(r.started_at),
    completedAt: toDateOrNull(r.completed_at),
    steps: steps.map(stepFromRow),
  };
}

export function uploadedAtMs(r: FileRow): number {
  return toNumber(r.uploaded_at);
}
