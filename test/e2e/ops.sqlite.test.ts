import { createTempDir } from '../helpers/env.js';
import { opsSuite } from './ops-suite.js';

opsSuite('SQLite', async () => {
  const tmp = await createTempDir();
  return { env: { DATA_DIR: tmp.dir, DATABASE_URL: '', STORAGE_URL: '' }, cleanup: () => tmp.remove() };
});
