import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createPostgresStore, createSqliteStore } from './sql.js';
import type { Store } from './types.js';

export type * from './types.js';

/**
 * Opens the configured store. It does not migrate: the caller runs `migrate()` once at start-up
 * (any number of processes may do so at the same time).
 */
export interface StoreOptions {
  readonly log: Logger;
  /** The order a file's steps are kept in (the registry's step order); unknown names go last. */
  readonly stepOrder?: readonly string[] | undefined;
  /** PostgreSQL: told when an idle pooled connection loses its server (default: a warning each). */
  readonly onConnectionError?: ((err: Error) => void) | undefined;
}

export async function createStore(database: Config['database'], options: StoreOptions): Promise<Store> {
  const log = options.log.child({ component: 'store', kind: database.kind });
  switch (database.kind) {
    case 'sqlite':
      return createSqliteStore(database.path, log, options.stepOrder);
    case 'postgres':
      return createPostgresStore(database.url, log, options.stepOrder, options.onConnectionError);
    case 'mongodb':
      // Loaded on demand: the MongoDB driver costs ~10 MB of memory in every process that imports it.
      return (await import('./mongo.js')).createMongoStore(database.url, log, options.stepOrder);
  }
}
