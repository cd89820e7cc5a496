import { describe } from 'node:test';

import { createTempDir, createTempPgDatabase, SKIP_NO_POSTGRES } from '../helpers/env.js';
import { pipelineSuite } from './pipeline-suite.js';

if (SKIP_NO_POSTGRES) describe('pipeline on PostgreSQL', { skip: SKIP_NO_POSTGRES }, () => {});
else
  pipelineSuite('PostgreSQL', async () => {
    const tmp = await createTempDir();
    const db = await createTempPgDatabase();
    return {
      env: { DATA_DIR: tmp.dir, DATABASE_URL: db.url },
      dataDir: tmp.dir,
      async cleanup() {
        await db.drop();
        await tmp.remove();
      },
    };
  });
