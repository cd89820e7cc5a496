import { createTempPgDatabase, SKIP_NO_POSTGRES } from '../helpers/env.js';
import { runEngineConformance } from './conformance.js';

runEngineConformance(
  'PostgreSQL (official backend, guarded)',
  async () => {
    const db = await createTempPgDatabase();
    return { database: { kind: 'postgres', url: db.url }, crossProcessWakeups: true, teardown: db.drop };
  },
  SKIP_NO_POSTGRES,
);
