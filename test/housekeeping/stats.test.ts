import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';

import { pino } from 'pino';

import { loadConfig } from '../../src/registry.js';
import { type Service, startService } from '../../src/service.js';
import { everySeconds, statsLine } from '../../src/stats.js';
import { createTempDir } from '../helpers/env.js';
import { upload, waitForFinal } from '../helpers/service.js';

describe('stats line', () => {
  test('cron expressions and the line format', () => {
    assert.equal(everySeconds(30), '*/30 * * * * *');
    assert.equal(everySeconds(120), '0 */2 * * * *');
    const line = statsLine({
      uptimeSeconds: 3725,
      processed: 10,
      succeeded: 9,
      failed: 1,
      successPercent: 90,
      active: 2,
      concurrency: 30,
      peak: 5,
      avgStepMs: 812.4,
      queueDepth: 3,
    });
    assert.equal(line, 'stats: up 1h02m, processed 10 (90.0% ok, 1 failed), active 2/30 (peak 5), avg step 812 ms, queue 3');
  });

  describe('in a running worker', () => {
    let tmp: { dir: string; remove(): Promise<void> };
    let service: Service;
    const lines: Array<{ msg: string; stats?: Record<string, number | null>; component?: string }> = [];

    before(async () => {
      tmp = await createTempDir();
      const config = loadConfig({
        DATA_DIR: tmp.dir,
        PORT: '0',
        LOG_LEVEL: 'info',
        POLL_INTERVAL_MS: '200',
        STATS_INTERVAL_SECONDS: '1',
        DATABASE_URL: `sqlite:${join(tmp.dir, 'ns.db')}`,
      });
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as (typeof lines)[number]);
          done();
        },
      });
      service = await startService(config, pino({ level: 'info' }, sink));
    });
    after(async () => {
      await service?.stop();
      await tmp?.remove();
    });

    test('logs uptime, processed, success %, active/concurrency, peak, avg step time and queue depth; /metrics has the gauges', async () => {
      const res = await upload(service.url!, Buffer.from('plain text, not an image'), 'a.txt', { contentType: 'text/plain' });
      assert.equal(res.status, 202);
      await waitForFinal(service.url!, res.body.id, 10_000);
      const deadline = Date.now() + 10_000;
      let found: (typeof lines)[number] | undefined;
      while (!found) {
        found = lines.find((l) => l.component === 'stats' && typeof l.stats?.processed === 'number' && l.stats.processed >= 1);
        assert.ok(found || Date.now() < deadline, 'no stats line with a processed job');
        if (!found) await new Promise((r) => setTimeout(r, 200));
      }
      const s = found.stats!;
      assert.match(found.msg, /^stats: up \d+s, processed \d+ \(100\.0% ok, 0 failed\), active \d+\/\d+ \(peak [1-9]\d*\), avg step \d+ ms, queue \d+$/);
      assert.equal(s.failed, 0);
      assert.equal(s.successPercent, 100);
      assert.ok((s.peak ?? 0) >= 1);
      assert.ok((s.concurrency ?? 0) > 1);
      assert.equal(typeof s.avgStepMs, 'number');
      assert.equal(typeof s.queueDepth, 'number');

      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      // Issue 9: totals are counters labelled by job and outcome, and queue depth is per job.
      assert.match(metrics, /^nightshift_jobs_total\{job="process-file",outcome="success"\} [1-9]\d*$/m);
      assert.match(metrics, /^nightshift_queue_depth\{job="process-file"\} \d+$/m);
      assert.match(metrics, /^nightshift_jobs_concurrency \d+$/m);
    });
  });
});
