import { createTempDir } from '../helpers/env.js';
import { notifySuite } from './notify-suite.js';

notifySuite('SQLite', async () => {
  const tmp = await createTempDir();
  return { env: { DATA_DIR: tmp.dir }, cleanup: tmp.remove };
});
