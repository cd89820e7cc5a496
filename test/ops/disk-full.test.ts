import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { loadConfig } from '../../src/registry.js';
import { type Service, startService } from '../../src/service.js';
import { upload } from '../helpers/service.js';
import { captureLogger, testEnv } from './logsink.js';

const mountPoint = join(tmpdir(), `ns-full-${process.pid}`);

/** Mount a small tmpfs of our own (root only); the reason why not, or false. */
function mountTmpfs(): string | false {
  try {
    mkdirSync(mountPoint, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint], { stdio: 'pipe' });
    return false;
  } catch (err) {
    rmSync(mountPoint, { recursive: true, force: true });
    return `skipped: cannot mount a tmpfs here (needs root): ${(err as Error).message.split('\n')[0]}`;
  }
}

/** Write zeros until the filesystem says ENOSPC. */
async function fill(path: string): Promise<void> {
  const handle = await open(path, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) await handle.write(chunk);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOSPC') throw err;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

const skip = mountTmpfs();

describe('a full disk', { skip }, () => {
  let service: Service;
  const logs = captureLogger('info');
  const dataDir = join(mountPoint, 'data');
  const filler = join(mountPoint, 'filler');

  before(async () => {
    service = await startService(loadConfig(testEnv({ DATA_DIR: dataDir, MIN_FREE_BYTES: String(512 * 1024) })), logs.log);
  });
  after(async () => {
    await service?.stop();
    try {
      execFileSync('umount', [mountPoint], { stdio: 'pipe' });
    } finally {
      rmSync(mountPoint, { recursive: true, force: true });
    }
  });

  test('uploads answer 507 STORAGE_FULL, /readyz 503 names the full path, and both recover once space is freed', async () => {
    const url = service.url!;
    assert.equal((await fetch(`${url}/readyz`)).status, 200);
    await fill(filler);

    const res = await upload(url, Buffer.alloc(256 * 1024, 7), 'big.bin').catch((err: unknown) => {
      console.log(logs.raw.slice(-15).join('\n'));
      throw err;
    });
    assert.equal(res.status, 507, JSON.stringify(res.body));
    assert.equal((res.body.error as unknown as { code: string }).code, 'STORAGE_FULL');
    const again = await upload(url, Buffer.alloc(256 * 1024, 7), 'big.bin');
    assert.equal(again.status, 507);

    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 503);
    const body = (await ready.json()) as { disk: string };
    assert.match(body.disk, new RegExp(`full: ${dataDir.replace(/[/.]/g, '\\$&')}`));

    const lines = logs.lines();
    assert.equal(lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('storage full')).length, 1, 'one line for the episode');
    assert.equal(lines.filter((l) => l.msg === 'request failed').length, 0, 'no 500 with a stack');

    await rm(filler);
    const deadline = Date.now() + 20_000;
    while ((await fetch(`${url}/readyz`)).status !== 200) {
      assert.ok(Date.now() < deadline, '/readyz did not recover');
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal((await upload(url, Buffer.from('small'), 'a.txt', { contentType: 'text/plain' })).status, 202);
  });
});
