import type { AgendaBackend, NotificationChannel } from 'agenda';

import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { RefillOnCompleteChannel } from './refill-channel.js';
import { SqliteBackend } from './sqlite/backend.js';

export interface EngineBackend {
  readonly backend: AgendaBackend;
  /** Overrides the backend's own channel when set (e.g. Redis for Mongo). */
  readonly notificationChannel?: NotificationChannel | undefined;
}

export interface EngineBackendOptions {
  /** Redis pub/sub for MongoDB wake-ups (ignored by SQLite and PostgreSQL, which need none). */
  readonly redisUrl?: string | undefined;
  readonly log: Logger;
  /**
   * Publish job state events (start/success/fail/complete…) to other processes, for
   * `agenda.on(event, …, remote)` (default false). On costs three NOTIFYs per job on PostgreSQL
   * (throughput 354 → 261 jobs/s measured); local `agenda.on(...)` events work either way.
   */
  readonly broadcastStates?: boolean;
  /** PostgreSQL pool size per process (default 10; two pools with pgAsyncStateCommits). */
  readonly pgPoolMax?: number;
  /** PostgreSQL: commit lock/run-state writes asynchronously (default true); see GuardedRepositoryOptions. */
  readonly pgAsyncStateCommits?: boolean;
  /** PostgreSQL: commit job saves asynchronously too (default false: an acknowledged enqueue is durable). */
  readonly pgAsyncSaveCommits?: boolean;
  /** Refills of one job name in flight at once (default 4); see RefillOnCompleteChannel. */
  readonly parallelRefills?: number;
  /** SQLite cross-process wake-up check interval, ms (default 5). */
  readonly sqliteWakeupPollMs?: number;
  /** Told of each wake-up channel error (default: a warning per error). */
  readonly onChannelError?: (err: Error) => void;
}

/**
 * The Agenda backend for the configured database. Every channel returned is wrapped in
 * RefillOnCompleteChannel, so a worker with a lock limit refills as jobs finish instead of
 * waiting for the next poll.
 * - sqlite: our SqliteBackend (WAL file shared by the processes of one machine; wake-ups via
 *   `PRAGMA data_version`).
 * - postgres: the official backend (LISTEN/NOTIFY) with atomic unique saves, guarded schema
 *   setup, wake-ups sent by a trigger, and asynchronous commit of processor-only writes.
 * - mongodb: the official backend; Redis channel if redisUrl, else change streams on a replica
 *   set, else polling.
 */
export async function createEngineBackend(database: Config['database'], options: EngineBackendOptions): Promise<EngineBackend> {
  const log = options.log.child({ component: 'engine-backend', database: database.kind });
  const refill = (channel: NotificationChannel, forwardPublish = true) => {
    // Channels emit 'error' on connection loss (and reconnect on their own); Agenda does not
    // listen, and an unheard 'error' event would end the process.
    channel.on('error', options.onChannelError ?? ((err) => log.warn({ err }, 'job wake-up channel error')));
    return new RefillOnCompleteChannel(channel, { broadcastStates: options.broadcastStates, forwardPublish, parallelRefills: options.parallelRefills });
  };
  switch (database.kind) {
    case 'sqlite': {
      const sqlite = new SqliteBackend({ path: database.path, wakeupPollMs: options.sqliteWakeupPollMs, log });
      return { backend: withChannel(sqlite, refill(sqlite.notificationChannel)) };
    }
    case 'postgres': {
      const { createPostgresBackend } = await import('./pg/backend.js');
      const pg = createPostgresBackend({
        url: database.url,
        poolMax: options.pgPoolMax,
        asyncStateCommits: options.pgAsyncStateCommits,
        asyncSaveCommits: options.pgAsyncSaveCommits,
        log,
      });
      return { backend: withChannel(pg, pg.notificationChannel ? refill(pg.notificationChannel, false) : undefined) };
    }
    case 'mongodb': {
      // Each backend's driver loads only when it is the one configured.
      const { createMongoBackend } = await import('./mongo/backend.js');
      const mongo = await createMongoBackend({ url: database.url, redisUrl: options.redisUrl, log });
      if (mongo.channelKind === 'polling') log.info('MongoDB is not a replica set and REDIS_URL is unset: workers poll for new jobs');
      return { backend: mongo.backend, notificationChannel: mongo.channel ? refill(mongo.channel) : undefined };
    }
  }
}

/** The same backend with another notification channel; connect/disconnect still reach the original. */
function withChannel(backend: AgendaBackend, notificationChannel: NotificationChannel | undefined): AgendaBackend {
  return {
    name: backend.name,
    repository: backend.repository,
    notificationChannel,
    logger: backend.logger,
    ownsConnection: backend.ownsConnection,
    connect: () => backend.connect(),
    disconnect: () => backend.disconnect(),
  };
}
