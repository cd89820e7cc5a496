/**
 * RSS of a freshly started service (SQLite, every role), 3 s after start, in a process of its
 * own (nothing else loaded first).
 *
 *   node dist/bench/idle-rss.js
 */
import { createTempDir } from '../test/helpers/env.js';
import { startTestService } from '../test/helpers/service.js';

const tmp = await createTempDir('ns-rss-');
const svc = await startTestService({ DATA_DIR: tmp.dir });
await new Promise((r) => setTimeout(r, 3_000));
console.log(
  `idle RSS 3 s after start: ${Math.round(process.memoryUsage.rss() / 1_048_576)} MB (heap used ${Math.round(process.memoryUsage().heapUsed / 1_048_576)} MB)`,
);
await svc.stop();
await tmp.remove();
process.exit(0);
