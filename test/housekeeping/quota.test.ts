import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { createLogger } from '../../src/logger.js';
import { scheduleDelivery } from '../../src/notify/delivery.js';
import type { NotifyHub } from '../../src/notify/hub.js';
import { createHub } from '../../src/notify/hub.js';
import { NO_LINKS } from '../../src/notify/links.js';
import { checkOwnerQuota, nextAlerts } from '../../src/quota.js';
import { createTempDir, createTempPgDatabase, SKIP_NO_POSTGRES } from '../helpers/env.js';
import { startTestService, upload } from '../helpers/service.js';

const log = createLogger('silent');

describe('quota thresholds', () => {
  test('fire at 80, 90, 100 and re-arm 5 points below', () => {
    assert.deepEqual(nextAlerts([], 79.9), { next: [], fresh: [] });
    assert.deepEqual(nextAlerts([], 80), { next: [80], fresh: [80] });
    assert.deepEqual(nextAlerts([80], 85), { next: [80], fresh: [] });
    assert.deepEqual(nextAlerts([80], 95), { next: [80, 90], fresh: [90] });
    assert.deepEqual(nextAlerts([], 120), { next: [80, 90, 100], fresh: [80, 90, 100] });
    // 96 %: 100 stays fired (not 5 points below), so going back to 100 is no new alert.
    assert.deepEqual(nextAlerts([80, 90, 100], 96), { next: [80, 90, 100], fresh: [] });
    assert.deepEqual(nextAlerts([80, 90, 100], 94.9), { next: [80, 90], fresh: [] });
    assert.deepEqual(nextAlerts([80, 90], 75.1), { next: [80], fresh: [] });
    assert.deepEqual(nextAlerts([80], 75), { next: [], fresh: [] });
  });
});

function suite(kind: 'sqlite' | 'postgres', skip: string | false) {
  describe(`quota-check and 507 on ${kind}`, { skip }, () => {
    let tmp: { dir: string; remove(): Promise<void> };
    let pgDb: { url: string; drop(): Promise<void> } | undefined;
    let service: Awaited<ReturnType<typeof startTestService>>;
    let notify: NotifyHub;
    let n = 0;

    before(async () => {
      tmp = await createTempDir();
      if (kind === 'postgres') pgDb = await createTempPgDatabase();
      service = await startTestService({
        DATA_DIR: tmp.dir,
        DATABASE_URL: pgDb ? pgDb.url : `sqlite:${join(tmp.dir, 'ns.db')}`,
        NOTIFY_ADMINS: 'console:admin',
      });
      const config = service.config;
      notify = createHub({
        config: config.notify,
        store: service.store,
        notifiers: new Map(config.notifiers.map((x) => [x.name, x.create({ log })] as const)),
        renderContext: { links: NO_LINKS },
        schedule: (n, at) => scheduleDelivery(service.engine.enqueue, n, at),
        log,
      });
      await service.store.owners.upsert('q', { quotaBytes: 1000 });
    });

    after(async () => {
      await service?.stop();
      await pgDb?.drop();
      await tmp?.remove();
    });

    const addBytes = async (size: number) => {
      n++;
      await service.store.createFile({
        id: `q-${n}`,
        owner: 'q',
        filename: `f${n}.bin`,
        contentType: 'application/octet-stream',
        size,
        blobKey: `originals/q-${n}`,
      });
    };
    const check = () => checkOwnerQuota({ store: service.store, notify }, 'q', undefined, log);
    const setQuota = (quotaBytes: number) => service.store.owners.upsert('q', { quotaBytes });
    const alerts = async () => {
      const rows = [
        ...(await service.store.outbox.list({ event: 'quota.warning', limit: 100 })).items,
        ...(await service.store.outbox.list({ event: 'quota.exceeded', limit: 100 })).items,
      ].filter((r) => r.recipient === 'owner:q');
      return rows.map((r) => `${r.event}@${(r.message.data as { threshold: number }).threshold}`).sort();
    };

    test('alerts fire once per crossing, and only one of two concurrent checks emits', async () => {
      await addBytes(500);
      assert.equal((await check()).alerted, null);
      await addBytes(300); // 80 %
      const [a, b] = await Promise.all([check(), check()]);
      assert.deepEqual([a.alerted, b.alerted].sort(), [80, null]);
      assert.equal((await check()).alerted, null, 'not repeated');
      await addBytes(100); // 90 %
      assert.equal((await check()).alerted, 90);
      await addBytes(100); // 100 %
      assert.equal((await check()).alerted, 100);
      assert.equal((await check()).alerted, null);
      assert.deepEqual(await alerts(), ['quota.exceeded@100', 'quota.warning@80', 'quota.warning@90']);
      assert.deepEqual((await service.store.owners.get('q'))?.quotaAlerts, [80, 90, 100]);
    });

    test('an upload while at or over quota gets 507 QUOTA_EXCEEDED before the body is stored', async () => {
      const res = await upload(service.url, Buffer.from('hello'), 'x.txt', { owner: 'q', contentType: 'text/plain' });
      assert.equal(res.status, 507);
      assert.equal((res.body.error as unknown as { code: string }).code, 'QUOTA_EXCEEDED');
      assert.match((res.body.error as unknown as { message: string }).message, /quota/);
      assert.equal((await service.store.listFiles({ owner: 'q', limit: 100 })).items.length, 4, 'no file record was made');
    });

    test('thresholds re-arm only 5 points below, then fire again', async () => {
      await setQuota(1042); // 96 %: 100 stays fired
      assert.equal((await check()).alerted, null);
      await setQuota(1000); // back to 100 %: same crossing
      assert.equal((await check()).alerted, null);
      await setQuota(1300); // 76.9 %: 100 and 90 re-arm, 80 stays
      assert.equal((await check()).alerted, null);
      assert.deepEqual((await service.store.owners.get('q'))?.quotaAlerts, [80]);
      await setQuota(1111); // 90.0 %: 90 again
      assert.equal((await check()).alerted, 90);
      await setQuota(1000); // 100 % again: a new exceeded alert
      assert.equal((await check()).alerted, 100);
      assert.deepEqual(await alerts(), ['quota.exceeded@100', 'quota.exceeded@100', 'quota.warning@80', 'quota.warning@90', 'quota.warning@90']);
    });

    test('after usage drops below the quota, uploads are accepted and a quota-check is enqueued for the owner', async () => {
      await setQuota(100_000);
      const res = await upload(service.url, Buffer.from('hello'), 'x.txt', { owner: 'q', contentType: 'text/plain' });
      assert.equal(res.status, 202);
      // The worker runs the enqueued check, which clears the fired list (1 % used).
      const deadline = Date.now() + 10_000;
      while ((await service.store.owners.get('q'))?.quotaAlerts.length !== 0) {
        assert.ok(Date.now() < deadline, 'quota-check after the upload did not run');
        await new Promise((r) => setTimeout(r, 100));
      }
    });
  });
}

suite('sqlite', false);
suite('postgres', SKIP_NO_POSTGRES);
