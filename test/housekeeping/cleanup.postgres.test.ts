import { describe } from 'node:test';

import { createTempPgDatabase, SKIP_NO_POSTGRES } from '../helpers/env.js';
import { cleanupSuite } from './cleanup-suite.js';

describe('cleanup-stuck on PostgreSQL', { skip: SKIP_NO_POSTGRES }, () => {
  cleanupSuite(async () => {
    const db = await createTempPgDatabase();
    return { database: { kind: 'postgres', url: db.url }, drop: () => db.drop() };
  });
});
