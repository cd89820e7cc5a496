import { createLogger } from '../../src/logger.js';
import { openPostgres } from '../../src/store/connect.js';
import { createStore } from '../../src/store/index.js';
import { createTempPgDatabase, SKIP_NO_POSTGRES } from '../helpers/env.js';
import { runStoreConformance } from './conformance.js';
import { seedSqlFiles, STEP_ORDER } from './seed.js';

const log = createLogger(process.env.LOG_LEVEL ?? 'silent');

runStoreConformance(
  'postgres',
  async () => {
    const db = await createTempPgDatabase();
    return {
      open: () => createStore({ kind: 'postgres', url: db.url }, { log, stepOrder: STEP_ORDER }),
      async seedFiles(files) {
        const kdb = openPostgres(db.url, log, 1);
        try {
          await seedSqlFiles(kdb, files);
        } finally {
          await kdb.destroy();
        }
      },
      cleanup: () => db.drop(),
    };
  },
  { skip: SKIP_NO_POSTGRES },
);
