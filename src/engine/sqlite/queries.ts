import type { JobsOverview, JobsQueryOptions, JobsResult, JobState, JobWithState } from 'agenda';

import type { SqliteAccess } from './access.js';
import { likePattern, orderBy, STATE_SQL } from './filters.js';
import { dataContains, type JobRow, rowToJob, type SqlValue } from './rows.js';

/**
 * What Agendash lists: jobs filtered by name(s), id(s), name search, data containment, disabled
 * and computed state, sorted and paged — all in SQL, so a page of a large table costs one
 * indexed query and one count, not a load of every row.
 */
export function queryJobs(repo: SqliteAccess, options: JobsQueryOptions): JobsResult {
  const { name, names, state, id, ids, search, data, includeDisabled = true, sort, skip = 0, limit = 0 } = options;
  const conditions: string[] = [];
  const params: SqlValue[] = [];
  if (name) {
    conditions.push('name = ?');
    params.push(name);
  } else if (names && names.length > 0) {
    conditions.push(`name IN (${names.map(() => '?').join(', ')})`);
    params.push(...names);
  }
  if (id) {
    conditions.push('id = ?');
    params.push(id);
  } else if (ids && ids.length > 0) {
    conditions.push(`id IN (${ids.map(() => '?').join(', ')})`);
    params.push(...ids);
  }
  if (search) {
    conditions.push(`name LIKE ? ESCAPE '\\'`);
    params.push(likePattern(search));
  }
  if (data !== undefined) conditions.push(...dataContains(data, params));
  if (!includeDisabled) conditions.push('disabled = 0');
  if (state === 'paused') conditions.push('disabled = 1');
  else if (state) {
    conditions.push(`(${STATE_SQL}) = ?`);
    params.push(state);
  }
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const now = { now: Date.now() };
  const t = repo.table;
  const total = repo.prep<{ n: number }>(`SELECT COUNT(*) AS n FROM "${t}" ${where}`).get(...params, now)!.n;
  const page = limit > 0 ? `LIMIT ${Math.floor(limit)} OFFSET ${Math.max(0, Math.floor(skip))}` : skip > 0 ? `LIMIT -1 OFFSET ${Math.floor(skip)}` : '';
  const rows = repo
    .prep<JobRow & { state: JobState }>(`SELECT *, ${STATE_SQL} AS state FROM "${t}" ${where} ORDER BY ${orderBy(sort)} ${page}`)
    .all(...params, now);
  const jobs = rows.map((r): JobWithState => {
    const job = rowToJob(r);
    return { ...job, _id: job._id!, state: r.state };
  });
  return { jobs, total };
}

/** Per job name: the total and the count in each computed state, plus disabled ('paused'). */
export function jobsOverview(repo: SqliteAccess): JobsOverview[] {
  const rows = repo
    .prep<JobsOverview>(
      `SELECT name, COUNT(*) AS total,
         SUM(state = 'running') AS running, SUM(state = 'scheduled') AS scheduled, SUM(state = 'queued') AS queued,
         SUM(state = 'completed') AS completed, SUM(state = 'failed') AS failed, SUM(state = 'repeating') AS repeating,
         SUM(disabled) AS paused
       FROM (SELECT name, disabled, ${STATE_SQL} AS state FROM "${repo.table}")
       GROUP BY name ORDER BY name`,
    )
    .all({ now: Date.now() });
  return rows.map((r) => ({ ...r }));
}
