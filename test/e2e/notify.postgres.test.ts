import { describe } from 'node:test';

import { createTempDir, createTempPgDatabase, SKIP_NO_POSTGRES } from '../helpers/env.js';
import { notifySuite } from './notify-suite.js';

if (SKIP_NO_POSTGRES) describe('notifications on PostgreSQL', { skip: SKIP_NO_POSTGRES }, () => {});
else
  notifySuite('PostgreSQL', async () => {
    const tmp = await createTempDir();
    const db = await createTempPgDatabase();
    return {
      env: { DATA_DIR: tmp.dir, DATABASE_URL: db.url },
      async cleanup() {
        await db.drop();
        await tmp.remove();
      },
    };
  });
