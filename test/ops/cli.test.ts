import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { createTempDir } from '../helpers/env.js';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.js');

/** Run `nightshift start` with env; resolves with its exit code and output (killed after timeoutMs). */
function start(env: Record<string, string>, timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'start', '--role', 'api'], {
      env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'warn', AWS_EC2_METADATA_DISABLED: 'true', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('start-up connection errors name the key', () => {
  let tmp: { dir: string; remove(): Promise<void> };
  before(async () => {
    tmp = await createTempDir();
  });
  after(() => tmp?.remove());

  test('an unreachable DATABASE_URL: exit 2, one line naming the key and host, no stack', async () => {
    const r = await start({ DATA_DIR: tmp.dir, DATABASE_URL: 'postgres://u@nope:1/db' });
    assert.equal(r.code, 2, r.stderr + r.stdout);
    assert.match(r.stderr, /^nightshift: DATABASE_URL: cannot connect to nope:1 \((ENOTFOUND|EAI_AGAIN)\)\n$/);
    assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at /);
  });

  test('a refused PostgreSQL port: ECONNREFUSED', async () => {
    const r = await start({ DATA_DIR: tmp.dir, DATABASE_URL: 'postgres://u@127.0.0.1:1/db' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^nightshift: DATABASE_URL: cannot connect to 127\.0\.0\.1:1 \(ECONNREFUSED\)\n$/);
  });

  test('S3 without credentials: exit 2 naming AWS_ACCESS_KEY_ID and STORAGE_URL', async () => {
    const r = await start({ DATA_DIR: tmp.dir, STORAGE_URL: 's3://nightshift-no-creds', S3_ENDPOINT: 'http://127.0.0.1:1', HOME: tmp.dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^nightshift: AWS_ACCESS_KEY_ID: no S3 credentials for STORAGE_URL=s3:\/\/nightshift-no-creds/m);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  test('LOG_FORMAT=pretty: one readable line per event (time, level, message)', async () => {
    const r = await start({ DATA_DIR: tmp.dir, LOG_FORMAT: 'pretty', LOG_LEVEL: 'warn', DATABASE_URL: 'postgres://u@127.0.0.1:1/db' });
    // The warning about API_TOKEN comes before the connection fails.
    assert.match(r.stdout, /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: API_TOKEN is not set/m);
    assert.doesNotMatch(r.stdout, /^\{/m, 'no JSON lines');
  });
});
