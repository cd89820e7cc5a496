/**
 * RSS of a freshly started service as a user starts it (`nightshift start`, SQLite, every
 * role), read from /proc 3 s after it answers /readyz, beside the RSS of a bare `node` process
 * measured the same way in the same run (the baseline).
 *
 *   node dist/bench/idle-rss.js
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { createTempDir } from '../test/helpers/env.js';

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const rssMb = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
await sleep(1_000);
const baseline = rssMb(bare.pid!);
bare.kill('SIGKILL');

const tmp = await createTempDir('ns-rss-');
const port = 39_000 + Math.floor(Math.random() * 1000);
const child = spawn(process.execPath, [cli, 'start'], { env: { ...process.env, DATA_DIR: tmp.dir, PORT: String(port), LOG_LEVEL: 'warn' }, stdio: 'ignore' });
const started = performance.now();
for (;;) {
  try {
    if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) break;
  } catch {
    // not listening yet
  }
  if (performance.now() - started > 60_000) throw new Error('the service did not become ready in 60 s');
  await sleep(100);
}
const readyMs = Math.round(performance.now() - started);
await sleep(3_000);
const rss = rssMb(child.pid!);
console.log(
  `idle RSS of \`nightshift start\` 3 s after ready: ${rss} MiB (bare node: ${baseline} MiB, ${(rss / baseline).toFixed(1)}×); ready in ${readyMs} ms`,
);
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
await tmp.remove();
