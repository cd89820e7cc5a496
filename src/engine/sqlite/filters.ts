import type { JobsSort, JobState, RemoveJobsOptions } from 'agenda';

import { dataContains, type SqlValue } from './rows.js';

/** A WHERE fragment and its positional parameters. */
export interface Where {
  readonly sql: string;
  readonly params: SqlValue[];
}

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/**
 * RemoveJobsOptions → WHERE, as the official backends read them: id or ids, then name or
 * names or notNames, then data containment. No criterion at all → undefined (match nothing).
 */
export function whereFromOptions(options: RemoveJobsOptions): Where | undefined {
  const conditions: string[] = [];
  const params: SqlValue[] = [];
  if (options.id) {
    conditions.push('id = ?');
    params.push(options.id.toString());
  } else if (options.ids && options.ids.length > 0) {
    conditions.push(`id IN (${placeholders(options.ids.length)})`);
    params.push(...options.ids.map(String));
  }
  if (options.name) {
    conditions.push('name = ?');
    params.push(options.name);
  } else if (options.names && options.names.length > 0) {
    conditions.push(`name IN (${placeholders(options.names.length)})`);
    params.push(...options.names);
  } else if (options.notNames && options.notNames.length > 0) {
    conditions.push(`name NOT IN (${placeholders(options.notNames.length)})`);
    params.push(...options.notNames);
  }
  if (options.data !== undefined) conditions.push(...dataContains(options.data, params));
  return conditions.length === 0 ? undefined : { sql: conditions.join(' AND '), params };
}

/**
 * Agenda's computeJobState() as an SQL expression over one row, `?` bound to now (ms), so
 * the dashboard's state filter, counts and pagination run in the database instead of
 * loading every row (which is what the PostgreSQL backend does).
 */
export const STATE_SQL = `CASE
  WHEN locked_at IS NOT NULL THEN 'running'
  WHEN failed_at IS NOT NULL AND (last_finished_at IS NULL OR failed_at >= last_finished_at) THEN 'failed'
  WHEN repeat_interval IS NOT NULL AND repeat_interval NOT IN ('', 0) THEN 'repeating'
  WHEN next_run_at IS NOT NULL AND next_run_at > @now THEN 'scheduled'
  WHEN next_run_at IS NOT NULL THEN 'queued'
  ELSE 'completed'
END`;

export const JOB_STATES: readonly JobState[] = ['running', 'scheduled', 'queued', 'completed', 'failed', 'repeating', 'paused'];

const dir = (d: 'asc' | 'desc') => (d === 'asc' ? 'ASC' : 'DESC');

/** JobsSort → ORDER BY, the PostgreSQL backend's defaults and NULLS LAST; rowid keeps pages stable. */
export function orderBy(sort: JobsSort | undefined): string {
  const parts: string[] = [];
  if (sort?.nextRunAt) parts.push(`next_run_at ${dir(sort.nextRunAt)} NULLS LAST`);
  if (sort?.lastRunAt) parts.push(`last_run_at ${dir(sort.lastRunAt)} NULLS LAST`);
  if (sort?.lastFinishedAt) parts.push(`last_finished_at ${dir(sort.lastFinishedAt)} NULLS LAST`);
  if (sort?.priority) parts.push(`priority ${dir(sort.priority)}`);
  if (sort?.name) parts.push(`name ${dir(sort.name)}`);
  if (sort?.data) parts.push(`data ${dir(sort.data)}`);
  if (parts.length === 0) parts.push('next_run_at DESC NULLS LAST', 'last_run_at DESC NULLS LAST');
  parts.push('rowid ASC');
  return parts.join(', ');
}

/** `%`, `_` and `\` in a search term match themselves. */
export function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
