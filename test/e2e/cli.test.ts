import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

import { createTempDir } from '../helpers/env.js';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.js');

function run(env: Record<string, string>, stopWhen?: RegExp, command = 'start'): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, command], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stopWhen?.test(stdout)) child.kill('SIGTERM');
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('nightshift start with a bad config exits 2 naming the key', async () => {
  const r = await run({ PORT: 'not-a-port', MAX_UPLOAD_BYTES: '-5' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /PORT/);
  assert.match(r.stderr, /MAX_UPLOAD_BYTES/);
});

test('nightshift start runs on the embedded default and stops cleanly on SIGTERM', { timeout: 60_000 }, async () => {
  const tmp = await createTempDir();
  try {
    const r = await run({ DATA_DIR: tmp.dir, PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: '', STORAGE_URL: '' }, /nightshift started/);
    assert.match(r.stdout, /"database":"sqlite"/);
    assert.match(r.stdout, /nightshift stopped/);
    assert.equal(r.code, 0);
  } finally {
    await tmp.remove();
  }
});

test('nightshift migrate creates the store schema and exits 0', { timeout: 60_000 }, async () => {
  const tmp = await createTempDir();
  try {
    const r = await run({ DATA_DIR: tmp.dir, LOG_LEVEL: 'info', DATABASE_URL: '', STORAGE_URL: '' }, undefined, 'migrate');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /nightshift migrated/);
    assert.match(r.stdout, /"database":"sqlite"/);
    // Twice is fine: a deployment runs it before every start.
    assert.equal((await run({ DATA_DIR: tmp.dir, DATABASE_URL: '', STORAGE_URL: '' }, undefined, 'migrate')).code, 0);
  } finally {
    await tmp.remove();
  }
});
