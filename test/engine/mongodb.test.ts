import { SKIP_NO_MONGODB, tempMongoUrl } from '../helpers/env.js';
import { runEngineConformance } from './conformance.js';

// Wake-ups across processes need REDIS_URL (TEST_REDIS_URL here) or a replica set; without
// either the backend polls and that one test says so.
runEngineConformance(
  'MongoDB (official backend)',
  async () => {
    const url = tempMongoUrl();
    const redisUrl = process.env.TEST_REDIS_URL;
    const { MongoClient } = await import('@agendajs/mongo-backend');
    const probe = new MongoClient(url);
    const hello = await probe.db().admin().command({ hello: 1 });
    await probe.close();
    return {
      database: { kind: 'mongodb', url },
      redisUrl,
      crossProcessWakeups: redisUrl !== undefined || typeof hello.setName === 'string',
      async teardown() {
        const c = new MongoClient(url);
        await c.db().dropDatabase();
        await c.close();
      },
    };
  },
  SKIP_NO_MONGODB,
);
