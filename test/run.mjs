#!/usr/bin/env node
// Runs the compiled tests with node's own runner. `--smoke` runs a fast subset one file at a
// time and stops at the first failure. TEST_POSTGRES_URL defaults to the local server.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

// Files that take minutes of mostly idle wall time (the 5-minute SMTP outage) run in a runner
// of their own beside the rest, so they neither extend the suite nor hold one of its two slots.
const SLOW_FIRST = ['e2e/notify-outage.test.js'];
const SMOKE = ['style.test.js', 'blobs/keys.test.js', 'e2e/http.test.js', 'store/sqlite.test.js', 'engine/sqlite.test.js', 'jobs/sniff.test.js'];

const smoke = process.argv.includes('--smoke');
const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', 'dist', 'test');
if (!existsSync(root)) {
  console.error('dist/test is missing: run `npm run build` first');
  process.exit(1);
}
function collect(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...collect(p));
    else if (entry.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}
const env = { ...process.env };
env.TEST_POSTGRES_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
env.LOG_LEVEL ??= 'silent';
// Agenda leaves referenced lock-check timers behind after stop (up to half a lock lifetime):
// without force-exit each test file would linger minutes after its last test.
const args = ['--test', '--test-timeout=300000', '--test-force-exit'];
const run = (files, extra = []) => spawnSync(process.execPath, [...args, ...extra, ...files], { stdio: 'inherit', env }).status ?? 1;

if (smoke) {
  for (const f of SMOKE.map((s) => join(root, s))) {
    const status = run([f]);
    if (status !== 0) process.exit(status);
  }
  process.exit(0);
}
const slow = SLOW_FIRST.map((s) => join(root, s)).filter((f) => existsSync(f));
const runAsync = (files, extra = []) =>
  new Promise((resolve) => {
    if (files.length === 0) return resolve(0);
    spawn(process.execPath, [...args, ...extra, ...files], { stdio: 'inherit', env }).on('exit', (code) => resolve(code ?? 1));
  });
const statuses = await Promise.all([
  runAsync(slow, ['--test-timeout=600000']),
  runAsync(
    collect(root).filter((f) => !slow.includes(f)),
    ['--test-concurrency=2'],
  ),
]);
process.exit(statuses.find((s) => s !== 0) ?? 0);
