/**
 * RSS of a freshly started service as a user starts it (`nightshift start`, SQLite, every
 * role), read from /proc 3 s after it answers /readyz, beside the RSS of a bare `node` process
 * measured the same way in the same run (the baseline).
 *
 *   node dist/bench/idle-rss.js
 */
import { spawn } from 'node:child_process';

import { createTempDir } from '../test/helpers/env.js';
import { rssBytes, startServiceProcess } from './service-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (bytes: number) => Math.round(bytes / 1_048_576);

const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
await sleep(1_000);
const baseline = mib(rssBytes(bare.pid!));
bare.kill('SIGKILL');

const tmp = await createTempDir('ns-rss-');
const started = performance.now();
const svc = await startServiceProcess({ DATA_DIR: tmp.dir });
const readyMs = Math.round(performance.now() - started);
await sleep(3_000);
const rss = mib(svc.rss());
console.log(
  `idle RSS of \`nightshift start\` 3 s after ready: ${rss} MiB (bare node: ${baseline} MiB, ${(rss / baseline).toFixed(1)}×); ready in ${readyMs} ms`,
);
await svc.stop();
await tmp.remove();
