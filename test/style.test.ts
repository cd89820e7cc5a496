import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';

import madge from 'madge';

const ROOT = join(import.meta.dirname, '..', '..');
const DIST = join(ROOT, 'dist');
const ROOMS = ['src', 'jobs', 'notifiers'];

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sources(p)));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

test('no import cycles in the core, jobs and notifiers', async () => {
  const result = await madge(
    ROOMS.map((r) => join(DIST, r)),
    { fileExtensions: ['js'] },
  );
  assert.deepEqual(result.circular(), []);
});

test('no console in src/, jobs/, notifiers/: one pino logger is passed down', async () => {
  const offenders: string[] = [];
  for (const room of ROOMS) {
    for (const file of await sources(join(ROOT, room))) {
      const lines = (await readFile(file, 'utf8')).split('\n');
      lines.forEach((line, i) => {
        if (/\bconsole\.(log|error|warn|info|debug|trace)\(/.test(line) && !line.trim().startsWith('//') && !line.trim().startsWith('*')) {
          offenders.push(`${file.slice(ROOT.length + 1)}:${i + 1}`);
        }
      });
    }
  }
  assert.deepEqual(offenders, []);
});
