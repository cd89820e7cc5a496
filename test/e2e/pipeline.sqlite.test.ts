import { createTempDir } from '../helpers/env.js';
import { pipelineSuite } from './pipeline-suite.js';

pipelineSuite('SQLite (embedded default)', async () => {
  const tmp = await createTempDir();
  return { env: { DATA_DIR: tmp.dir }, dataDir: tmp.dir, cleanup: tmp.remove };
});
