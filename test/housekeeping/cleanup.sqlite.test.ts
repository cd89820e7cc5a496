import { join } from 'node:path';
import { describe } from 'node:test';

import { createTempDir } from '../helpers/env.js';
import { cleanupSuite } from './cleanup-suite.js';

describe('cleanup-stuck on SQLite', () => {
  cleanupSuite(async () => {
    const tmp = await createTempDir();
    return { database: { kind: 'sqlite', path: join(tmp.dir, 'ns.db') }, drop: () => tmp.remove() };
  });
});
