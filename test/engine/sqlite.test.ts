import { join } from 'node:path';

import { createTempDir } from '../helpers/env.js';
import { runEngineConformance } from './conformance.js';

runEngineConformance('SQLite (ours)', async () => {
  const tmp = await createTempDir('nightshift-engine-');
  return { database: { kind: 'sqlite', path: join(tmp.dir, 'jobs.db') }, crossProcessWakeups: true, teardown: tmp.remove };
});
