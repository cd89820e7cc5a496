import type { JobLogEntry, JobLogger, JobLogQuery, JobLogQueryResult } from 'agenda';

import type { SqliteJobRepository } from './repository.js';
import type { SqlValue } from './rows.js';

interface LogRow {
  id: number;
  timestamp: number;
  level: JobLogEntry['level'];
  event: JobLogEntry['event'];
  job_id: string | null;
  job_name: string;
  message: string;
  duration: number | null;
  error: string | null;
  fail_count: number | null;
  retry_delay: number | null;
  retry_attempt: number | null;
  agenda_name: string | null;
  meta: string | null;
}

/** Agenda's persistent job log (`logging: true`) in `<logTable>` of the same file. */
export class SqliteJobLogger implements JobLogger {
  constructor(private readonly repo: SqliteJobRepository) {}

  async log(entry: Omit<JobLogEntry, '_id'>): Promise<void> {
    if (!this.repo.isConnected) return;
    this.repo
      .prep(
        `INSERT INTO "${this.repo.logTable}" (timestamp, level, event, job_id, job_name, message, duration, error,
           fail_count, retry_delay, retry_attempt, agenda_name, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        entry.timestamp.getTime(),
        entry.level,
        entry.event,
        entry.jobId ?? null,
        entry.jobName,
        entry.message,
        entry.duration ?? null,
        entry.error ?? null,
        entry.failCount ?? null,
        entry.retryDelay ?? null,
        entry.retryAttempt ?? null,
        entry.agendaName ?? null,
        entry.meta ? JSON.stringify(entry.meta) : null,
      );
  }

  async getLogs(query?: JobLogQuery): Promise<JobLogQueryResult> {
    if (!this.repo.isConnected) return { entries: [], total: 0 };
    const { where, params } = buildWhere(query);
    const t = this.repo.logTable;
    const sort = query?.sort === 'asc' ? 'ASC' : 'DESC';
    const rows = this.repo
      .prep<LogRow>(`SELECT * FROM "${t}" ${where} ORDER BY timestamp ${sort}, id ${sort} LIMIT ? OFFSET ?`)
      .all(...params, query?.limit ?? 50, query?.offset ?? 0);
    const total = this.repo.prep<{ n: number }>(`SELECT COUNT(*) AS n FROM "${t}" ${where}`).get(...params)!.n;
    const entries = rows.map((r): JobLogEntry => ({
      _id: String(r.id),
      timestamp: new Date(r.timestamp),
      level: r.level,
      event: r.event,
      jobId: r.job_id ?? undefined,
      jobName: r.job_name,
      message: r.message,
      duration: r.duration ?? undefined,
      error: r.error ?? undefined,
      failCount: r.fail_count ?? undefined,
      retryDelay: r.retry_delay ?? undefined,
      retryAttempt: r.retry_attempt ?? undefined,
      agendaName: r.agenda_name ?? undefined,
      meta: r.meta === null ? undefined : (JSON.parse(r.meta) as Record<string, unknown>),
    }));
    return { entries, total };
  }

  async clearLogs(query?: JobLogQuery): Promise<number> {
    if (!this.repo.isConnected) return 0;
    const { where, params } = buildWhere(query);
    return this.repo.prep(`DELETE FROM "${this.repo.logTable}" ${where}`).run(...params).changes;
  }
}

function buildWhere(query: JobLogQuery | undefined): { where: string; params: SqlValue[] } {
  const conditions: string[] = [];
  const params: SqlValue[] = [];
  const oneOrMany = (column: string, value: string | string[] | undefined) => {
    if (value === undefined) return;
    const values = Array.isArray(value) ? value : [value];
    conditions.push(`${column} IN (${values.map(() => '?').join(', ')})`);
    params.push(...values);
  };
  if (query?.jobId) oneOrMany('job_id', query.jobId);
  if (query?.jobName) oneOrMany('job_name', query.jobName);
  oneOrMany('level', query?.level);
  oneOrMany('event', query?.event);
  if (query?.from) {
    conditions.push('timestamp >= ?');
    params.push(query.from.getTime());
  }
  if (query?.to) {
    conditions.push('timestamp <= ?');
    params.push(query.to.getTime());
  }
  return { where: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '', params };
}
