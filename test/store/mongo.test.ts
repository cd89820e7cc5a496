import { MongoClient } from 'mongodb';

import { createLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/index.js';
import { SKIP_NO_MONGODB, tempMongoUrl } from '../helpers/env.js';
import { runStoreConformance } from './conformance.js';
import { seedMongoFiles, STEP_ORDER } from './seed.js';

const log = createLogger(process.env.LOG_LEVEL ?? 'silent');

runStoreConformance(
  'mongodb',
  async () => {
    const url = tempMongoUrl();
    return {
      open: () => createStore({ kind: 'mongodb', url }, { log, stepOrder: STEP_ORDER }),
      async seedFiles(files) {
        const client = new MongoClient(url);
        try {
          await seedMongoFiles(client.db(), files);
        } finally {
          await client.close();
        }
      },
      async cleanup() {
        const client = new MongoClient(url);
        try {
          await client.db().dropDatabase();
        } finally {
          await client.close();
        }
      },
    };
  },
  { skip: SKIP_NO_MONGODB },
);
