import type { Database } from 'better-sqlite3';

/**
 * Table layout of the SQLite backend. Dates are INTEGER milliseconds since the epoch (UTC),
 * booleans 0/1, `data` and `skip_days` JSON text. `repeat_interval` has no declared type on
 * purpose: SQLite then keeps a number a number and a string a string, so `every(60000)` and
 * `every('5 minutes')` read back exactly as saved.
 */
export function createSchema(db: Database, table: string, logTable: string): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS "${table}" (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      priority INTEGER NOT NULL DEFAULT 0,
      next_run_at INTEGER,
      type TEXT NOT NULL DEFAULT 'normal' CHECK (type IN ('normal', 'single')),
      locked_at INTEGER,
      last_finished_at INTEGER,
      failed_at INTEGER,
      fail_count INTEGER,
      fail_reason TEXT,
      repeat_timezone TEXT,
      last_run_at INTEGER,
      repeat_interval,
      data TEXT,
      repeat_at TEXT,
      disabled INTEGER NOT NULL DEFAULT 0,
      progress REAL,
      fork INTEGER NOT NULL DEFAULT 0,
      last_modified_by TEXT,
      debounce_started_at INTEGER,
      start_date INTEGER,
      end_date INTEGER,
      skip_days TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    );
    -- every(): at most one 'single' row per name; the upsert targets this index.
    CREATE UNIQUE INDEX IF NOT EXISTS "${table}_single_idx" ON "${table}" (name) WHERE type = 'single';
    -- getNextJobToRun, first branch: due, unlocked, enabled jobs of one name in run order.
    CREATE INDEX IF NOT EXISTS "${table}_due_idx" ON "${table}" (name, next_run_at, priority DESC)
      WHERE disabled = 0 AND locked_at IS NULL;
    -- getNextJobToRun, second branch (expired locks) and the 'running' state.
    CREATE INDEX IF NOT EXISTS "${table}_locked_idx" ON "${table}" (name, locked_at) WHERE locked_at IS NOT NULL;
    -- No index on next_run_at alone: it would be rewritten by every lock, start and finish (about
    -- a quarter of the cost of a job run, measured) to serve only getQueueSize and dashboard sorts,
    -- which scan a table of tens of thousands of rows in milliseconds.
    -- Cross-process wake-ups: one row per job name, seq bumped by every save that may make a job due.
    CREATE TABLE IF NOT EXISTS "${table}_wakeups" (
      name TEXT PRIMARY KEY,
      seq INTEGER NOT NULL,
      next_run_at INTEGER
    );
    CREATE TABLE IF NOT EXISTS "${logTable}" (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      timestamp INTEGER NOT NULL,
      level TEXT NOT NULL,
      event TEXT NOT NULL,
      job_id TEXT,
      job_name TEXT NOT NULL,
      message TEXT NOT NULL,
      duration INTEGER,
      error TEXT,
      fail_count INTEGER,
      retry_delay INTEGER,
      retry_attempt INTEGER,
      agenda_name TEXT,
      meta TEXT
    );
    CREATE INDEX IF NOT EXISTS "${logTable}_timestamp_idx" ON "${logTable}" (timestamp);
    CREATE INDEX IF NOT EXISTS "${logTable}_job_id_idx" ON "${logTable}" (job_id, timestamp);
    CREATE INDEX IF NOT EXISTS "${logTable}_job_name_idx" ON "${logTable}" (job_name, timestamp);
  `);
}

/** Only plain identifiers reach SQL text; everything else is a bound parameter. */
export function assertIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid SQLite table name: ${JSON.stringify(name)}`);
  return name;
}
