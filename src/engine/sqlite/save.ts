import { randomUUID } from 'node:crypto';

import type { JobParameters, JobRepositoryOptions } from 'agenda';

import type { SqliteAccess } from './access.js';
import { type JobRow, json, jsonPath, jsonScalar, ms, rowToJob, type SqlValue, UNIQUE_COLUMNS } from './rows.js';

type Props = Omit<JobParameters, '_id' | 'unique' | 'uniqueOpts'>;

/** The columns a save writes besides id/name, and how each is read from the job. */
const definitionValues = (p: Props): SqlValue[] => [
  p.priority,
  p.type,
  p.repeatTimezone ?? null,
  p.repeatInterval ?? null,
  json(p.data),
  p.repeatAt ?? null,
  p.disabled ? 1 : 0,
  p.fork ? 1 : 0,
  ms(p.startDate),
  ms(p.endDate),
  json(p.skipDays),
];
const DEFINITION_COLUMNS = 'priority, type, repeat_timezone, repeat_interval, data, repeat_at, disabled, fork, start_date, end_date, skip_days';
const DEFINITION_SET = DEFINITION_COLUMNS.split(', ')
  .map((c) => `${c} = ?`)
  .join(', ');

/**
 * Agenda's saveJob, as the official backends behave:
 * - a job with an _id is updated in place (a removed job comes back unchanged);
 * - `type: 'single'` (every()) upserts the one row of that name; a nextRunAt already due does
 *   not overwrite the stored one, so restarting a process does not re-run a repeating job;
 * - `unique` finds the matching row: insertOnly returns it untouched, debounce moves its
 *   nextRunAt (trailing, with maxWait) or keeps it (leading), otherwise it is updated;
 * - anything else is inserted.
 * The read and the write share one BEGIN IMMEDIATE transaction, so two processes saving the
 * same unique job at once end with one row. A save that leaves a job due records a wake-up.
 */
export function saveJob<DATA>(repo: SqliteAccess, job: JobParameters<DATA>, options: JobRepositoryOptions | undefined): JobParameters<DATA> {
  const { _id, unique, uniqueOpts, ...props } = job as JobParameters;
  const by = options?.lastModifiedBy ?? null;
  const t = repo.table;
  const row = repo.immediate((): JobRow | undefined => {
    const now = Date.now();
    let saved: JobRow | undefined;
    if (_id) {
      saved = repo
        .prep<JobRow>(
          `UPDATE "${t}" SET ${DEFINITION_SET}, next_run_at = ?, fail_reason = ?, fail_count = ?, failed_at = ?,
             last_modified_by = ?, updated_at = ?
           WHERE id = ? AND name = ? RETURNING *`,
        )
        .get(
          ...definitionValues(props),
          ms(props.nextRunAt),
          props.failReason ?? null,
          props.failCount ?? null,
          ms(props.failedAt),
          by,
          now,
          _id.toString(),
          props.name,
        );
      if (!saved) return undefined;
    } else if (props.type === 'single') {
      const protect = props.nextRunAt !== null && props.nextRunAt.getTime() <= now;
      saved = repo
        .prep<JobRow>(
          `INSERT INTO "${t}" (id, name, ${DEFINITION_COLUMNS}, next_run_at, last_modified_by, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (name) WHERE type = 'single' DO UPDATE SET
             ${DEFINITION_COLUMNS.split(', ')
               .filter((c) => c !== 'type')
               .map((c) => `${c} = excluded.${c}`)
               .join(', ')},
             next_run_at = ${protect ? `COALESCE("${t}".next_run_at, excluded.next_run_at)` : 'excluded.next_run_at'},
             last_modified_by = excluded.last_modified_by, updated_at = excluded.updated_at
           RETURNING *`,
        )
        .get(randomUUID(), props.name, ...definitionValues(props), ms(props.nextRunAt), by, now, now)!;
    } else if (unique) {
      saved = saveUnique(repo, props, unique, uniqueOpts, by, now);
    } else {
      saved = insert(repo, props, ms(props.nextRunAt), null, by, now);
    }
    if (saved.disabled === 0) repo.recordWakeup(saved.name, saved.next_run_at);
    return saved;
  });
  return row ? (rowToJob(row) as JobParameters<DATA>) : job;
}

function insert(repo: SqliteAccess, props: Props, nextRunAt: number | null, debounceStartedAt: number | null, by: string | null, now: number): JobRow {
  return repo
    .prep<JobRow>(
      `INSERT INTO "${repo.table}" (id, name, ${DEFINITION_COLUMNS}, next_run_at, debounce_started_at, last_modified_by, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    )
    .get(randomUUID(), props.name, ...definitionValues(props), nextRunAt, debounceStartedAt, by, now, now)!;
}

function saveUnique(
  repo: SqliteAccess,
  props: Props,
  unique: Record<string, unknown>,
  uniqueOpts: JobParameters['uniqueOpts'],
  by: string | null,
  now: number,
): JobRow {
  const conditions = ['name = ?'];
  const params: SqlValue[] = [props.name];
  for (const [key, value] of Object.entries(unique)) {
    if (key.startsWith('data.')) {
      conditions.push('json_extract(data, ?) = ?');
      params.push(jsonPath(key.slice(5)), jsonScalar(value));
      continue;
    }
    const col = UNIQUE_COLUMNS[key];
    if (!col) throw new Error(`Invalid unique constraint field: "${key}"`);
    if (value === null || value === undefined) {
      conditions.push(`${col.column} IS NULL`);
      continue;
    }
    conditions.push(`${col.column} = ?`);
    params.push(col.kind === 'date' ? ms(value) : col.kind === 'bool' ? (value ? 1 : 0) : col.kind === 'json' ? JSON.stringify(value) : jsonScalar(value));
  }
  const existing = repo.prep<JobRow>(`SELECT * FROM "${repo.table}" WHERE ${conditions.join(' AND ')} ORDER BY rowid LIMIT 1`).get(...params);
  const debounce = uniqueOpts?.debounce;

  if (!existing) {
    if (!debounce) return insert(repo, props, ms(props.nextRunAt), null, by, now);
    const nextRunAt = debounce.strategy === 'leading' ? ms(props.nextRunAt) : now + debounce.delay;
    return insert(repo, props, nextRunAt, now, by, now);
  }
  if (uniqueOpts?.insertOnly && !debounce) return existing;

  let nextRunAt = ms(props.nextRunAt);
  let debounceStartedAt: number | null = null;
  if (debounce) {
    const started = existing.debounce_started_at ?? now;
    if (debounce.strategy === 'leading') {
      nextRunAt = existing.next_run_at;
      debounceStartedAt = started;
    } else if (debounce.maxWait && now - started >= debounce.maxWait) {
      nextRunAt = now;
    } else {
      nextRunAt = now + debounce.delay;
      debounceStartedAt = started;
    }
  }
  return repo
    .prep<JobRow>(
      `UPDATE "${repo.table}" SET ${DEFINITION_SET}, next_run_at = ?, debounce_started_at = ?, last_modified_by = ?, updated_at = ?
       WHERE id = ? RETURNING *`,
    )
    .get(...definitionValues(props), nextRunAt, debounceStartedAt, by, now, existing.id)!;
}
