import { createLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/index.js';
import { createTempPgDatabase, SKIP_NO_POSTGRES } from '../helpers/env.js';
import { runStoreConformance } from './conformance.js';

const log = createLogger(process.env.LOG_LEVEL ?? 'silent');

runStoreConformance(
  'postgres',
  async () => {
    const db = await createTempPgDatabase();
    return {
      open: () => createStore({ kind: 'postgres', url: db.url }, { log }),
      cleanup: () => db.drop(),
    };
  },
  { skip: SKIP_NO_POSTGRES },
);
