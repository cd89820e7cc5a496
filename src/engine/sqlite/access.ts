import type { Statement } from 'better-sqlite3';

/**
 * What the repository's helpers (save, queries) use of it: its table, its prepared-statement
 * cache, its write-lock transaction and its wake-ups. An interface of its own, so the helpers
 * do not import the repository that imports them.
 */
export interface SqliteAccess {
  readonly table: string;
  prep<R = unknown>(sql: string): Statement<unknown[], R>;
  immediate<T>(fn: () => T): T;
  recordWakeup(name: string, nextRunAt: number | null): void;
}
