import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';

/**
 * Where the real servers are. A test that needs one and finds none is skipped with the
 * reason, never passed silently.
 */
export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL;
export const TEST_MONGODB_URL = process.env.TEST_MONGODB_URL;

export const SKIP_NO_POSTGRES = TEST_POSTGRES_URL ? false : 'skipped: TEST_POSTGRES_URL is not set (no PostgreSQL server to test against)';
export const SKIP_NO_MONGODB = TEST_MONGODB_URL
  ? false
  : 'skipped: TEST_MONGODB_URL is not set (no MongoDB server on this machine; set it to run the MongoDB path)';

export function randomName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** A fresh, empty PostgreSQL database for one test file; `drop()` removes it. */
export async function createTempPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!TEST_POSTGRES_URL) throw new Error('TEST_POSTGRES_URL is not set');
  const name = randomName('ns_test');
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A fresh temporary directory (SQLite files, local blobs); `remove()` deletes it. */
export async function createTempDir(prefix = 'nightshift-test-'): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A fresh Mongo database name on TEST_MONGODB_URL. */
export function tempMongoUrl(): string {
  if (!TEST_MONGODB_URL) throw new Error('TEST_MONGODB_URL is not set');
  const url = new URL(TEST_MONGODB_URL);
  url.pathname = `/${randomName('ns_test')}`;
  return url.toString();
}
/** Every file under dir, recursively (blob directories, `.part` leftovers included). */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out;
}
