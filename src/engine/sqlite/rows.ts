import { type JobParameters, toJobId } from 'agenda';

/** A row of the jobs table as better-sqlite3 returns it. */
export interface JobRow {
  id: string;
  name: string;
  priority: number;
  next_run_at: number | null;
  type: 'normal' | 'single';
  locked_at: number | null;
  last_finished_at: number | null;
  failed_at: number | null;
  fail_count: number | null;
  fail_reason: string | null;
  repeat_timezone: string | null;
  last_run_at: number | null;
  repeat_interval: string | number | null;
  data: string | null;
  repeat_at: string | null;
  disabled: number;
  progress: number | null;
  fork: number;
  last_modified_by: string | null;
  debounce_started_at: number | null;
  start_date: number | null;
  end_date: number | null;
  skip_days: string | null;
  created_at: number;
  updated_at: number;
}

export type SqlValue = string | number | bigint | Buffer | null;

const date = (ms: number | null): Date | undefined => (ms === null ? undefined : new Date(ms));

/** Date | string | number | null | undefined → epoch ms or NULL. */
export function ms(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const t = value instanceof Date ? value.getTime() : new Date(value as string | number).getTime();
  return Number.isNaN(t) ? null : t;
}

export function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

export function rowToJob(row: JobRow): JobParameters {
  return {
    _id: toJobId(row.id),
    name: row.name,
    priority: row.priority,
    nextRunAt: row.next_run_at === null ? null : new Date(row.next_run_at),
    type: row.type,
    lockedAt: date(row.locked_at),
    lastFinishedAt: date(row.last_finished_at),
    failedAt: date(row.failed_at),
    failCount: row.fail_count ?? undefined,
    failReason: row.fail_reason ?? undefined,
    repeatTimezone: row.repeat_timezone ?? undefined,
    lastRunAt: date(row.last_run_at),
    repeatInterval: row.repeat_interval ?? undefined,
    data: row.data === null ? null : JSON.parse(row.data),
    repeatAt: row.repeat_at ?? undefined,
    disabled: row.disabled === 1,
    progress: row.progress ?? undefined,
    fork: row.fork === 1,
    lastModifiedBy: row.last_modified_by ?? undefined,
    debounceStartedAt: date(row.debounce_started_at),
    startDate: date(row.start_date),
    endDate: date(row.end_date),
    skipDays: row.skip_days === null ? undefined : (JSON.parse(row.skip_days) as number[]),
  };
}

/**
 * Columns a `unique` key may name directly (camelCase as Agenda spells them). Keys are
 * validated against this list before they reach SQL text; values are always bound.
 */
export const UNIQUE_COLUMNS: Readonly<Record<string, { column: string; kind: 'date' | 'bool' | 'json' | 'plain' }>> = {
  _id: { column: 'id', kind: 'plain' },
  id: { column: 'id', kind: 'plain' },
  name: { column: 'name', kind: 'plain' },
  priority: { column: 'priority', kind: 'plain' },
  nextRunAt: { column: 'next_run_at', kind: 'date' },
  type: { column: 'type', kind: 'plain' },
  lockedAt: { column: 'locked_at', kind: 'date' },
  lastFinishedAt: { column: 'last_finished_at', kind: 'date' },
  failedAt: { column: 'failed_at', kind: 'date' },
  failCount: { column: 'fail_count', kind: 'plain' },
  failReason: { column: 'fail_reason', kind: 'plain' },
  repeatTimezone: { column: 'repeat_timezone', kind: 'plain' },
  lastRunAt: { column: 'last_run_at', kind: 'date' },
  repeatInterval: { column: 'repeat_interval', kind: 'plain' },
  repeatAt: { column: 'repeat_at', kind: 'plain' },
  disabled: { column: 'disabled', kind: 'bool' },
  progress: { column: 'progress', kind: 'plain' },
  fork: { column: 'fork', kind: 'bool' },
  lastModifiedBy: { column: 'last_modified_by', kind: 'plain' },
  debounceStartedAt: { column: 'debounce_started_at', kind: 'date' },
  startDate: { column: 'start_date', kind: 'date' },
  endDate: { column: 'end_date', kind: 'date' },
  skipDays: { column: 'skip_days', kind: 'json' },
};

/** A JSON path for json_extract from the dotted key after `data.` (`a.b-c` → `$."a"."b-c"`). */
export function jsonPath(dotted: string): string {
  return (
    '$' +
    dotted
      .split('.')
      .map((seg) => `."${seg.replace(/"/g, '""')}"`)
      .join('')
  );
}

/** A JS value as SQLite can compare it with a json_extract() result. */
export function jsonScalar(value: unknown): SqlValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'bigint') return value;
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}

/**
 * SQL conditions matching `data` that contains `filter` (PostgreSQL's `data @> filter`):
 * every leaf of a filter object must be present and equal; an array leaf must have each of
 * its elements in the stored array.
 */
export function dataContains(filter: unknown, params: SqlValue[], path = '$'): string[] {
  if (filter !== null && typeof filter === 'object' && !Array.isArray(filter) && !(filter instanceof Date)) {
    const out: string[] = [];
    for (const [k, v] of Object.entries(filter)) out.push(...dataContains(v, params, `${path}."${k.replace(/"/g, '""')}"`));
    if (out.length === 0) {
      params.push(path);
      out.push(`json_type(data, ?) = 'object'`);
    }
    return out;
  }
  if (Array.isArray(filter)) {
    return filter.map((el) => {
      params.push(path, jsonScalar(el));
      return `EXISTS (SELECT 1 FROM json_each(data, ?) WHERE value = ?)`;
    });
  }
  if (filter === null) {
    params.push(path);
    return [`json_type(data, ?) = 'null'`];
  }
  params.push(path, jsonScalar(filter));
  return [`json_extract(data, ?) = ?`];
}
