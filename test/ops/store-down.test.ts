import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { loadConfig } from '../../src/registry.js';
import { type Service, startService } from '../../src/service.js';
import { createTempDir } from '../helpers/env.js';
import { upload, waitForFinal } from '../helpers/service.js';
import { captureLogger, testEnv } from './logsink.js';
import { createPrivatePg, type PrivatePg, SKIP_NO_PRIVATE_PG } from './private-pg.js';

const OUTAGE_MS = 6_000;

describe('PostgreSQL stopped for a while', { skip: SKIP_NO_PRIVATE_PG }, () => {
  let pg: PrivatePg;
  let tmp: { dir: string; remove(): Promise<void> };
  let service: Service;
  const logs = captureLogger('info');

  before(async () => {
    pg = await createPrivatePg();
    tmp = await createTempDir();
    const config = loadConfig(testEnv({ DATA_DIR: tmp.dir, DATABASE_URL: pg.url }));
    service = await startService(config, logs.log);
  });
  after(async () => {
    await pg?.start().catch(() => undefined);
    await service?.stop();
    await pg?.remove();
    await tmp?.remove();
  });

  test('uploads answer 503 STORE_UNAVAILABLE with Retry-After, the log says down once and back once, every 202 completes', async () => {
    const url = service.url!;
    const accepted: string[] = [];
    const first = await upload(url, Buffer.from('before the outage'), 'a.txt', { contentType: 'text/plain' });
    assert.equal(first.status, 202);
    // Settled first: a job running when the server goes away stays locked for its lock lifetime.
    assert.equal((await waitForFinal(url, first.body.id, 20_000)).status, 'completed');
    const before = logs.raw.length;

    await pg.stop();
    const statuses = new Map<number, number>();
    const bodies: unknown[] = [];
    const retryAfter = new Set<string | null>();
    const until = Date.now() + OUTAGE_MS;
    while (Date.now() < until) {
      const form = new FormData();
      form.append('file', new Blob([Buffer.from(`during ${Date.now()}`)], { type: 'text/plain' }), 'd.txt');
      const res = await fetch(`${url}/api/v1/files`, { method: 'POST', body: form });
      const body = (await res.json()) as { id?: string; error?: { code: string } };
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 202 && body.id) accepted.push(body.id);
      else {
        bodies.push(body);
        retryAfter.add(res.headers.get('retry-after'));
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 503);
    await pg.start();

    const counts = Object.fromEntries(statuses);
    console.log(`during a ${OUTAGE_MS} ms outage: ${JSON.stringify(counts)}`);
    assert.equal(counts[500], undefined, `no 500s during the outage: ${JSON.stringify(bodies.slice(0, 3))}`);
    assert.ok((counts[503] ?? 0) > 5, `503s during the outage: ${JSON.stringify(counts)}`);
    for (const b of bodies) assert.equal((b as { error: { code: string } }).error.code, 'STORE_UNAVAILABLE');
    assert.deepEqual([...retryAfter], ['5']);

    // Back: the monitor's probe notices within a few seconds; uploads work again.
    const deadline = Date.now() + 15_000;
    while (!logs.lines().some((l) => l.msg === 'store is back')) {
      assert.ok(Date.now() < deadline, 'no "store is back" line');
      await new Promise((r) => setTimeout(r, 200));
    }
    let again = await upload(url, Buffer.from('after the outage'), 'b.txt', { contentType: 'text/plain' });
    for (let i = 0; again.status !== 202 && i < 20; i++) {
      await new Promise((r) => setTimeout(r, 500));
      again = await upload(url, Buffer.from('after the outage'), 'b.txt', { contentType: 'text/plain' });
    }
    assert.equal(again.status, 202);
    accepted.push(again.body.id);
    for (const id of accepted) assert.equal((await waitForFinal(url, id, 30_000)).status, 'completed');

    const lines = logs.lines().slice(before);
    const down = lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('store unavailable'));
    const back = lines.filter((l) => l.msg === 'store is back');
    const outageLines = lines.filter((l) => (l.level as number) >= 40);
    console.log(`log lines at warn or above during the outage: ${outageLines.length}; ${JSON.stringify(outageLines.map((l) => l.msg)).slice(0, 800)}`);
    assert.equal(down.length, 1, JSON.stringify(down));
    assert.equal(back.length, 1);
    assert.equal(lines.filter((l) => l.msg === 'job wake-up channel error').length, 0);
  });
});
