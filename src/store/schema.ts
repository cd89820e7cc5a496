import type { ColumnType } from 'kysely';

import type { FileStatus, StepName, StepStatus } from './types.js';

/**
 * Times are stored as epoch milliseconds (bigint) on both engines: one code path, exact
 * ordering for keyset paging, and plain numeric range queries for sweeps and summaries.
 * pg returns int8 as a string, better-sqlite3 as a number, hence the wide select type.
 */
export type Int8 = ColumnType<number | string, number, number>;
export type NullableInt8 = ColumnType<number | string | null, number | null, number | null>;

/** jsonb on PostgreSQL (comes back parsed), text on SQLite (comes back as a string); written as JSON text. */
export type JsonColumn = ColumnType<unknown, string | null, string | null>;

export interface FilesTable {
  id: string;
  owner: string | null;
  filename: string;
  content_type: string;
  size: Int8;
  blob_key: string;
  status: FileStatus;
  error: string | null;
  uploaded_at: Int8;
  started_at: NullableInt8;
  completed_at: NullableInt8;
}

export interface FileStepsTable {
  file_id: string;
  name: StepName;
  /** Index in STEP_NAMES, so "the first failed step" is an ORDER BY. */
  position: number;
  status: StepStatus;
  attempts: number;
  duration_ms: number | null;
  error: string | null;
  started_at: NullableInt8;
  finished_at: NullableInt8;
  heartbeat_at: NullableInt8;
  result: JsonColumn;
}

export interface Database {
  files: FilesTable;
  file_steps: FileStepsTable;
}
