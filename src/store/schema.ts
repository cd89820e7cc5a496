/** The SQL dialects the store runs on. */
export type SqlKind = 'sqlite' | 'postgres';

import type { ColumnType } from 'kysely';

import type { FileStatus, StepName, StepStatus } from './types.js';

/**
 * Times are stored as epoch milliseconds (bigint) on both engines: one code path, exact
 * ordering for keyset paging, and plain numeric range queries for sweeps and summaries.
 * pg returns int8 as a string, better-sqlite3 as a number, hence the wide select type.
 */
export type Int8 = ColumnType<number | string, number, number>;
export type NullableInt8 = ColumnType<number | string | null, number | null, number | null>;
/** An Int8 with a column default, so inserts may leave it out. */
export type DefaultedInt8 = ColumnType<number | string, number | undefined, number>;

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
  /** Bytes of derived blobs (thumbnails), counted in the owner's usage. */
  derived_bytes: DefaultedInt8;
}

export interface FileStepsTable {
  file_id: string;
  name: StepName;
  /** Index in the store's step order, so "the first failed step" is an ORDER BY. */
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

export interface OwnersTable {
  id: string;
  email: string | null;
  line_user_id: string | null;
  /** 0/1: one integer type on both engines (better-sqlite3 cannot bind booleans). */
  line_following: number;
  quota_bytes: NullableInt8;
  timezone: string;
  quiet_hours: JsonColumn;
  events: JsonColumn;
  /**
   * Fired thresholds as canonical JSON text (sorted, no spaces): text on both engines, so the
   * compare-and-set is a plain string equality in the WHERE clause.
   */
  quota_alerts: string;
  /** Epoch ms of the last LINE webhook event applied to this owner (migration 0006); null: none yet. */
  line_event_at: NullableInt8;
  created_at: Int8;
  updated_at: Int8;
}

/** LINE webhook events already applied, by webhookEventId (migration 0006). */
export interface LineWebhookEventsTable {
  event_id: string;
  seen_at: Int8;
}

export interface OwnerLinkCodesTable {
  /** One live code per owner: a new code replaces the old one. */
  owner_id: string;
  code: string;
  expires_at: Int8;
}

/** An owner's address on a channel that keeps addresses in the generic map (migration 0004). */
export interface OwnerAddressesTable {
  owner_id: string;
  channel: string;
  address: string;
  updated_at: Int8;
}

export interface NotificationsTable {
  id: string;
  key: string;
  event: string;
  channel: string;
  recipient: string;
  owner: string | null;
  status: 'queued' | 'sent' | 'failed' | 'dead';
  attempts: number;
  message: JsonColumn;
  digest_key: string | null;
  /**
   * 1 while a digest row accepts appends, null otherwise (plain rows, and digest rows once
   * claimed or finished). A partial unique index on digest_key where this is 1 allows one open
   * row per digest key.
   */
  digest_open: number | null;
  not_before: Int8;
  /** A claim holds the row until this time (epoch ms); null when free. */
  lease_until: NullableInt8;
  last_error: string | null;
  response: string | null;
  created_at: Int8;
  updated_at: Int8;
  sent_at: NullableInt8;
  /** When the first send attempt began (epoch ms); null before (migration 0008). */
  first_attempt_at: NullableInt8;
}

export interface Database {
  files: FilesTable;
  file_steps: FileStepsTable;
  owners: OwnersTable;
  owner_link_codes: OwnerLinkCodesTable;
  owner_addresses: OwnerAddressesTable;
  line_webhook_events: LineWebhookEventsTable;
  notifications: NotificationsTable;
  job_runs: JobRunsTable;
  workers: WorkersTable;
  controls: ControlsTable;
}

export interface JobRunsTable {
  job: string;
  occurrence: string;
  status: 'running' | 'succeeded' | 'failed';
  worker: string | null;
  started_at: Int8;
  finished_at: NullableInt8;
  result: JsonColumn;
  error: string | null;
}

/** One row per running process (migration 0005): what its heartbeat reports. */
export interface WorkersTable {
  id: string;
  host: string;
  pid: number;
  role: string;
  /** JSON array of job names. */
  jobs: JsonColumn;
  concurrency: number;
  /** JSON array of { job, jobId, fileId, startedAt (ms), attempt }. */
  running: JsonColumn;
  started_at: Int8;
  version: string;
  heartbeat_ms: number;
  heartbeat_at: Int8;
  locks_released_at: NullableInt8;
}

/** A stored operator control (a pause): present means set. */
export interface ControlsTable {
  key: string;
  by: string | null;
  at: Int8;
}
