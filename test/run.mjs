#!/usr/bin/env node
// Runs the compiled tests with node's own runner. `--smoke` runs the fast subset and stops at
// the first failure. TEST_POSTGRES_URL defaults to the local server when one answers.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

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
    else if (entry.endsWith('.test.js') && (!smoke || entry.includes('.smoke.'))) out.push(p);
  }
  return out.sort();
}
const files = collect(root);
const env = { ...process.env };
env.TEST_POSTGRES_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
env.LOG_LEVEL ??= 'silent';
// Agenda leaves referenced lock-check timers behind after stop (up to half a lock lifetime):
// without force-exit each test file would linger minutes after its last test.
const args = ['--test', '--test-concurrency=2', '--test-timeout=300000', '--test-force-exit'];
const r = spawnSync(process.execPath, [...args, ...files], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
