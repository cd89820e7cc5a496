import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { createTempDir } from '../helpers/env.js';
import { runSmtpOutage } from '../helpers/outage.js';

const OUTAGE_MS = 5 * 60_000;
/** The email channel's delivery concurrency (notifiers/email.ts): how far apart in-order sends may land. */
const EMAIL_CONCURRENCY = 5;

// Five real minutes: the server's listener is closed and every connection attempt refused.
// With the old schedule (8 attempts, ~4 min) every mail queued early in the outage went dead.
describe('a 5-minute SMTP outage loses no mail (default retry schedule, SQLite)', { timeout: OUTAGE_MS + 180_000 }, () => {
  test('every mail queued during the outage is delivered once, in order, when the server is back', { timeout: OUTAGE_MS + 170_000 }, async (t) => {
    const tmp = await createTempDir();
    try {
      const report = await runSmtpOutage({
        env: { DATA_DIR: tmp.dir },
        outageMs: OUTAGE_MS,
        messages: 15,
        drainTimeoutMs: 120_000,
        progress: (line) => t.diagnostic(line),
      });
      t.diagnostic(JSON.stringify(report));
      assert.equal(report.queued, 15);
      assert.equal(report.delivered, 15, 'every mail arrived');
      assert.equal(report.dead, 0, 'none gave up');
      assert.equal(report.duplicates, 0, 'none arrived twice');
      assert.ok(report.maxAttempts > 8, `the first mails were retried past the old limit of 8 (${report.maxAttempts})`);
      assert.ok(report.drainMs < 60_000, `the queue drained ${report.drainMs} ms after the server came back`);
      // In order, but for the retries already under way when the server came back (at most the
      // channel's concurrency): the rest are released oldest first.
      assert.ok(report.outOfOrder <= EMAIL_CONCURRENCY + 1, `${report.outOfOrder} mails out of queue order`);
    } finally {
      await tmp.remove();
    }
  });
});
