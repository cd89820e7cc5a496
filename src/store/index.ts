import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createMongoStore } from './mongo.js';
import { createPostgresStore, createSqliteStore } from './sql.js';
import type { Store } from './types.js';

export type * from './types.js';
export { STEP_NAMES } from './types.js';

/**
 * Opens the configured store. It does not migrate: the caller runs `migrate()` once at start-up
 * (any number of processes may do so at the same time).
 */
export async function createStore(database: Config['database'], options: { log: Logger }): Promise<Store> {
  const log = options.log.child({ component: 'store', kind: database.kind });
  switch (database.kind) {
    case 'sqlite':
      return createSqliteStore(database.path, log);
    case 'postgres':
      return createPostgresStore(database.url, log);
    case 'mongodb':
      return createMongoStore(database.url, log);
  }
}
