import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import BetterSqlite3 from 'better-sqlite3';

import { createLogger } from '../../src/logger.js';
import { openSqlite } from '../../src/store/connect.js';
import { createStore } from '../../src/store/index.js';
import { migrations } from '../../src/store/migrations.js';
import { createTempDir } from '../helpers/env.js';
import { runStoreConformance } from './conformance.js';
import { seedSqlFiles, STEP_ORDER } from './seed.js';

const log = createLogger(process.env.LOG_LEVEL ?? 'silent');

runStoreConformance('sqlite', async () => {
  const tmp = await createTempDir();
  const path = join(tmp.dir, 'nested', 'nightshift.db');
  return {
    open: () => createStore({ kind: 'sqlite', path }, { log, stepOrder: STEP_ORDER }),
    async seedFiles(files) {
      const db = openSqlite(path);
      try {
        await seedSqlFiles(db, files);
      } finally {
        await db.destroy();
      }
    },
    cleanup: () => tmp.remove(),
  };
});

describe('sqlite store across processes', () => {
  let tmp: { dir: string; remove(): Promise<void> };
  before(async () => {
    tmp = await createTempDir();
  });
  after(() => tmp.remove());

  test('four processes migrating one new file at once all succeed, leaving one schema', async () => {
    const path = join(tmp.dir, 'shared.db');
    const storeModule = new URL('../../src/store/index.js', import.meta.url).href;
    const loggerModule = new URL('../../src/logger.js', import.meta.url).href;
    const script = `
      const { createStore } = await import(${JSON.stringify(storeModule)});
      const { createLogger } = await import(${JSON.stringify(loggerModule)});
      const store = await createStore({ kind: 'sqlite', path: ${JSON.stringify(path)} }, { log: createLogger('silent') });
      await store.migrate();
      await store.createFile({ id: String(process.pid), owner: null, filename: 'f', contentType: 'text/plain', size: 1, blobKey: 'k' });
      await store.close();
    `;
    const run = promisify(execFile);
    await Promise.all(Array.from({ length: 4 }, () => run(process.execPath, ['--input-type=module', '-e', script])));

    const db = new BetterSqlite3(path, { readonly: true });
    try {
      const applied = db.prepare('select name from nightshift_migrations').all();
      // Each migration of the history applied exactly once, in order.
      assert.deepEqual(
        applied,
        Object.keys(migrations('sqlite')).map((name) => ({ name })),
      );
      assert.deepEqual(applied.slice(0, 3), [{ name: '0001_files_and_steps' }, { name: '0002_owners_outbox_usage' }, { name: '0003_job_runs' }]);
      assert.equal((db.prepare('select count(*) as n from files').get() as { n: number }).n, 4);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  });
});
