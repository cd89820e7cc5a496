import { describe } from 'node:test';

import { createTempDir, createTempPgDatabase, SKIP_NO_POSTGRES } from '../helpers/env.js';
import { opsSuite } from './ops-suite.js';

if (SKIP_NO_POSTGRES) describe('operating nightshift on PostgreSQL', { skip: SKIP_NO_POSTGRES }, () => {});
else
  opsSuite('PostgreSQL', async () => {
    const tmp = await createTempDir();
    const db = await createTempPgDatabase();
    return {
      env: { DATA_DIR: tmp.dir, DATABASE_URL: db.url, STORAGE_URL: '' },
      async cleanup() {
        await db.drop();
        await tmp.remove();
      },
    };
  });
