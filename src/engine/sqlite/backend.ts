import { resolve } from 'node:path';

import type { AgendaBackend } from 'agenda';

import type { Logger } from '../../logger.js';
import { SqliteNotificationChannel } from './channel.js';
import { SqliteJobLogger } from './logger.js';
import { SqliteJobRepository, type SqliteRepositoryOptions } from './repository.js';

export interface SqliteBackendOptions extends SqliteRepositoryOptions {
  /** Cross-process wake-up check interval, ms (default 5); see SqliteNotificationChannel. */
  readonly wakeupPollMs?: number;
  readonly log?: Logger;
}

/**
 * Agenda backend on an SQLite file (better-sqlite3): repository, wake-up channel and job
 * logger over one connection per backend. Processes on one machine may share the file.
 */
export class SqliteBackend implements AgendaBackend {
  readonly name = 'SQLite';
  readonly ownsConnection = true;
  readonly repository: SqliteJobRepository;
  readonly notificationChannel: SqliteNotificationChannel;
  readonly logger: SqliteJobLogger;

  constructor(options: SqliteBackendOptions) {
    this.repository = new SqliteJobRepository(options);
    const fileKey = options.path === ':memory:' ? `:memory:${Math.random()}` : resolve(options.path);
    this.notificationChannel = new SqliteNotificationChannel(this.repository, fileKey, {
      pollMs: options.wakeupPollMs,
      log: options.log,
    });
    this.logger = new SqliteJobLogger(this.repository);
  }

  async connect(): Promise<void> {
    await this.repository.connect();
  }

  async disconnect(): Promise<void> {
    await this.notificationChannel.disconnect();
    await this.repository.disconnect();
  }
}
