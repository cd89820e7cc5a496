import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  PostgresDialect,
  type QueryResult,
  type SqliteDatabase,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
} from 'kysely';
import type PgModule from 'pg';

import type { Logger } from '../logger.js';
import type { Database } from './schema.js';

/** How long a SQLite statement keeps retrying while another connection holds the write lock, ms. */
export const SQLITE_BUSY_TIMEOUT_MS = 10_000;

/**
 * better-sqlite3 is synchronous, so SQLite's own busy_timeout would block this thread while it
 * waits — and if the lock holder is another connection in this process (mid-transaction,
 * awaiting between statements), it can never finish: a deadlock until the timeout. So
 * connections run with busy_timeout 0 and a busy statement is retried here, asynchronously.
 * Retrying is safe: a statement that got SQLITE_BUSY did nothing, and inside our transactions
 * (always BEGIN IMMEDIATE) only the BEGIN itself can be busy.
 */
class RetryingConnection implements DatabaseConnection {
  readonly #inner: DatabaseConnection;
  constructor(inner: DatabaseConnection) {
    this.#inner = inner;
  }
  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const deadline = Date.now() + SQLITE_BUSY_TIMEOUT_MS;
    for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
      try {
        return await this.#inner.executeQuery<R>(query);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code !== 'string' || !code.startsWith('SQLITE_BUSY') || Date.now() > deadline) throw err;
        await sleep(delay + Math.random() * delay);
      }
    }
  }
  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.#inner.streamQuery<R>(query, chunkSize);
  }
}

/**
 * Kysely begins SQLite transactions with a plain (deferred) BEGIN: two writers that both read
 * first deadlock on the lock upgrade. BEGIN IMMEDIATE takes the write lock up front.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  #wrapped: { inner: DatabaseConnection; outer: DatabaseConnection } | undefined;
  override async acquireConnection(): Promise<DatabaseConnection> {
    const inner = await super.acquireConnection();
    if (this.#wrapped?.inner !== inner) this.#wrapped = { inner, outer: new RetryingConnection(inner) };
    return this.#wrapped.outer;
  }
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

/** Prepared statements kept per connection (least recently used beyond it are dropped). */
const STATEMENT_CACHE = 256;

/**
 * Kysely prepares every statement afresh, and preparing costs more than running most of ours
 * (measured while the isolation bench's mix ran: 141 of the 390 ms the store spent in SQL). The
 * SQL of a query repeats, so its statement is kept and reused; one still iterating (a stream)
 * is busy, and the query gets a fresh one instead.
 */
function withStatementCache(database: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => database.close(),
    prepare(sql) {
      const cached = cache.get(sql);
      if (cached && !cached.busy) {
        cache.delete(sql);
        cache.set(sql, cached);
        return cached;
      }
      const statement = database.prepare(sql);
      if (cached) return statement;
      cache.set(sql, statement);
      if (cache.size > STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
      return statement;
    },
  };
}

/**
 * Opens the SQLite file (creating its directory) in WAL mode, so readers in other processes
 * never block the writer and the writer never blocks them.
 */
export function openSqlite(path: string): Kysely<Database> {
  mkdirSync(dirname(path), { recursive: true });
  const database = new BetterSqlite3(path);
  // Switching a brand-new file to WAL needs a lock another process may briefly hold; this one
  // synchronous wait happens before the connection is shared with anything.
  database.pragma('busy_timeout = 5000');
  database.pragma('journal_mode = WAL');
  // WAL + NORMAL stays consistent after a crash; only the last commits before a power loss can go.
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 0');
  return new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(database) }) });
}

/**
 * A pool on `url`. `onError` is told when an idle client loses its server (default: a warning
 * each); the service passes its fault monitor, which says once that the store is down.
 */
export function openPostgres(url: string, log: Logger, max = 10, onError?: (err: Error) => void): Kysely<Database> {
  // Loaded when a PostgreSQL store is opened: the embedded default never needs the driver.
  const pg = createRequire(import.meta.url)('pg') as typeof PgModule;
  const pool = new pg.Pool({ connectionString: url, max });
  // An idle client losing its server emits on the pool; unhandled, that would kill the process.
  pool.on('error', onError ?? ((err) => log.warn({ err }, 'postgres idle client error')));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
