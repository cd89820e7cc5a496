// A long SMTP outage with a time-scaled retry schedule: `--scale 60` runs the 2-hour outage in
// 2 minutes, with NOTIFY_RETRY_FOR and NOTIFY_RETRY_MAX_DELAY divided by the same factor (24 h →
// 24 min, 1 h → 1 min), so the outage spans the same part of the schedule as 2 real hours
// would (the first retry delay, 2 s, is not scaled: it only adds early attempts). Prints
// delivered / dead / duplicates. `--hours`, `--messages`, `--scale`; `--scale 1` is the real thing.
import { parseArgs } from 'node:util';

import { formatDuration } from '../src/config/duration.js';
import { createTempDir } from '../test/helpers/env.js';
import { runSmtpOutage } from '../test/helpers/outage.js';

const { values } = parseArgs({
  options: { hours: { type: 'string', default: '2' }, scale: { type: 'string', default: '60' }, messages: { type: 'string', default: '60' } },
});
const scale = Number(values.scale);
const outageMs = Math.round((Number(values.hours) * 3_600_000) / scale);
const retryFor = formatDuration(Math.round((24 * 3_600_000) / scale));
const maxDelay = formatDuration(Math.round(3_600_000 / scale));
const tmp = await createTempDir('nightshift-bench-');
try {
  const started = Date.now();
  const report = await runSmtpOutage({
    env: { DATA_DIR: tmp.dir, NOTIFY_RETRY_FOR: retryFor, NOTIFY_RETRY_MAX_DELAY: maxDelay },
    outageMs,
    messages: Number(values.messages),
    drainTimeoutMs: Math.max(120_000, (2 * 3_600_000) / scale),
    progress: (line) => console.log(`[${Math.round((Date.now() - started) / 1000)} s] ${line}`),
  });
  console.log(
    `SMTP outage of ${values.hours} h (time-scaled 1/${scale}: ${Math.round(outageMs / 1000)} s; NOTIFY_RETRY_FOR=${retryFor}, NOTIFY_RETRY_MAX_DELAY=${maxDelay}), SQLite`,
  );
  console.log(
    `queued ${report.queued}  delivered ${report.delivered}  dead ${report.dead}  duplicates ${report.duplicates}  ` +
      `drained in ${(report.drainMs / 1000).toFixed(1)} s at ${report.drainRatePerSecond}/s  attempts max ${report.maxAttempts} mean ${report.meanAttempts}  ` +
      `out of queue order ${report.outOfOrder} (largest displacement ${report.maxDisplacement})`,
  );
  process.exitCode = report.delivered === report.queued && report.dead === 0 && report.duplicates === 0 ? 0 : 1;
} finally {
  await tmp.remove();
}
