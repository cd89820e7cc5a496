import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { createLogger } from '../../src/logger.js';
import { loadConfig } from '../../src/registry.js';
import { type Service, startService } from '../../src/service.js';
import { photoLike } from '../fixtures/images.js';
import { createTempDir } from '../helpers/env.js';
import { getFile, upload } from '../helpers/service.js';
import { testEnv } from './logsink.js';

const TOKEN = 'metrics-token-0123456789';

/** The value of one series in Prometheus text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries(
      (m[3] ?? '')
        .split(',')
        .filter(Boolean)
        .map((kv) => kv.split('=').map((x) => x.replace(/^"|"$/g, '')) as [string, string]),
    );
    if (Object.entries(labels).every(([k, v]) => got[k] === v) && Object.keys(got).length === Object.keys(labels).length) return Number(m[4]);
  }
  return undefined;
}

describe('GET /metrics', () => {
  let tmp: { dir: string; remove(): Promise<void> };
  let worker: Service;
  let api: Service;

  before(async () => {
    tmp = await createTempDir();
    const env = testEnv({ DATA_DIR: tmp.dir, DATABASE_URL: `sqlite:${join(tmp.dir, 'ns.db')}`, LOG_LEVEL: 'silent' });
    // This worker runs only process-file and thumbnail: analyze and ocr jobs stay queued.
    worker = await startService(loadConfig({ ...env, WORKER_JOBS: 'process-file,thumbnail' }, 'all'), createLogger('silent'));
    api = await startService(loadConfig({ ...env, METRICS_TOKEN: TOKEN }, 'api'), createLogger('silent'));
  });
  after(async () => {
    await api?.stop();
    await worker?.stop();
    await tmp?.remove();
  });

  test('the api role shows queue depth per job from the database, files by status, step histograms, job counters and upload bytes', async () => {
    const images = [await photoLike(320, 240, 1), await photoLike(320, 240, 2), await photoLike(320, 240, 3)];
    const ids: string[] = [];
    let bytes = 0;
    for (const [i, img] of images.entries()) {
      const res = await upload(worker.url!, img, `p${i}.jpg`, { contentType: 'image/jpeg' });
      assert.equal(res.status, 202);
      ids.push(res.body.id);
      bytes += img.length;
    }
    const deadline = Date.now() + 30_000;
    for (const id of ids) {
      while ((await getFile(worker.url!, id)).steps.thumbnail?.status !== 'completed') {
        assert.ok(Date.now() < deadline, 'thumbnail did not complete');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    // The queued ocr jobs, counted with Agenda's own query.
    const queuedOcr = (await api.engine.agenda.queryJobs({ name: 'ocr', state: 'queued' })).total;
    assert.equal(queuedOcr, 3);

    assert.equal((await fetch(`${api.url}/metrics`)).status, 401, 'METRICS_TOKEN guards /metrics');
    const fromApi = await (await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    assert.equal(sample(fromApi, 'nightshift_queue_depth', { job: 'ocr' }), queuedOcr);
    assert.equal(sample(fromApi, 'nightshift_queue_depth', { job: 'analyze' }), 3);
    assert.equal(sample(fromApi, 'nightshift_queue_depth', { job: 'thumbnail' }), 0);
    assert.equal(sample(fromApi, 'nightshift_files', { status: 'processing' }), 3);
    assert.equal(sample(fromApi, 'nightshift_files', { status: 'completed' }), 0);
    assert.match(fromApi, /^# TYPE nightshift_jobs_total counter$/m);
    assert.match(fromApi, /^# TYPE nightshift_step_duration_seconds histogram$/m);
    assert.match(fromApi, /^process_cpu_seconds_total /m, "prom-client's default metrics");
    assert.match(fromApi, /^nodejs_eventloop_lag_seconds /m);
    assert.equal(sample(fromApi, 'nightshift_upload_bytes_total'), 0, 'the api process took no upload');

    // The worker (open: loopback, no token) ran the jobs: counters, histograms with buckets, bytes.
    const fromWorker = await (await fetch(`${worker.url}/metrics`)).text();
    assert.equal(sample(fromWorker, 'nightshift_queue_depth', { job: 'ocr' }), 3, 'every role reports the same store numbers');
    assert.equal(sample(fromWorker, 'nightshift_jobs_total', { job: 'thumbnail', outcome: 'success' }), 3);
    assert.equal(sample(fromWorker, 'nightshift_jobs_total', { job: 'process-file', outcome: 'success' }), 3);
    assert.equal(sample(fromWorker, 'nightshift_step_duration_seconds_count', { step: 'thumbnail' }), 3);
    assert.equal(sample(fromWorker, 'nightshift_step_duration_seconds_bucket', { le: '+Inf', step: 'thumbnail' }), 3);
    assert.equal(sample(fromWorker, 'nightshift_step_duration_seconds_bucket', { le: '300', step: 'thumbnail' }), 3);
    assert.equal(sample(fromWorker, 'nightshift_job_duration_seconds_count', { job: 'process-file' }), 3);
    assert.equal(sample(fromWorker, 'nightshift_step_duration_seconds_count', { step: 'process-file' }), undefined, 'process-file is a job, not a step');
    assert.equal(sample(fromWorker, 'nightshift_upload_bytes_total'), bytes);
    assert.equal(sample(fromWorker, 'nightshift_notifications_total', { channel: 'console', outcome: 'delivered' }) ?? 0, 0);
  });
});

describe('METRICS_PORT on a worker-only process', () => {
  let tmp: { dir: string; remove(): Promise<void> };
  let worker: Service;
  before(async () => {
    tmp = await createTempDir();
    worker = await startService(loadConfig(testEnv({ DATA_DIR: tmp.dir, LOG_LEVEL: 'silent', METRICS_PORT: '0' }), 'worker'), createLogger('silent'));
  });
  after(async () => {
    await worker?.stop();
    await tmp?.remove();
  });

  test('serves /metrics and /healthz, and nothing else', async () => {
    assert.ok(worker.url, 'the metrics server is listening');
    assert.equal((await fetch(`${worker.url}/healthz`)).status, 200);
    const text = await (await fetch(`${worker.url}/metrics`)).text();
    assert.match(text, /^nightshift_queue_depth\{job="ocr"\} 0$/m);
    assert.match(text, /^nightshift_jobs_concurrency [1-9]\d*$/m);
    assert.equal((await fetch(`${worker.url}/api/v1/files`)).status, 404);
  });
});
