import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { createTempDir, createTempPgDatabase, SKIP_NO_POSTGRES } from '../helpers/env.js';
import { startTestService } from '../helpers/service.js';
import { api, startRig, until } from './notify-suite.js';

const LINE_USER = `U${'c'.repeat(32)}`;

async function restartCase(extraEnv: Record<string, string>) {
  const rig = await startRig();
  try {
    // An api-only process queues (persists and schedules) and stops before any worker sends.
    const first = await startTestService({ ...rig.env, ...extraEnv }, 'api');
    const mail = await api<{ id: string; status: string }>(first, 'POST', '/api/v1/notifications/test', { channel: 'email', recipient: 'ops@example.test' });
    const push = await api<{ id: string }>(first, 'POST', '/api/v1/notifications/test', { channel: 'line', recipient: LINE_USER });
    assert.equal(mail.body.status, 'queued');
    await first.stop();
    assert.equal(rig.smtp.mails.length, 0);

    const second = await startTestService({ ...rig.env, ...extraEnv });
    try {
      await rig.smtp.waitForMails(1, 20_000);
      await until('LINE push', () => (rig.line.deliveries.length >= 1 ? true : undefined));
      // Give a duplicate every chance to appear.
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(rig.smtp.mails.length, 1);
      assert.equal(rig.line.deliveries.filter((d) => d.retryKey === push.body.id).length, 1);
      const row = await api<{ status: string; attempts: number }>(second, 'GET', `/api/v1/notifications/${mail.body.id}`);
      assert.equal(row.body.status, 'sent');
      assert.equal(row.body.attempts, 1);
    } finally {
      await second.stop();
    }
  } finally {
    await rig.close();
  }
}

describe('a service restarted between queueing and sending delivers exactly once', { timeout: 120_000 }, () => {
  test('on SQLite', async () => {
    const tmp = await createTempDir();
    try {
      await restartCase({ DATA_DIR: tmp.dir });
    } finally {
      await tmp.remove();
    }
  });

  test('on PostgreSQL', { skip: SKIP_NO_POSTGRES }, async () => {
    const tmp = await createTempDir();
    const db = await createTempPgDatabase();
    try {
      await restartCase({ DATA_DIR: tmp.dir, DATABASE_URL: db.url });
    } finally {
      await db.drop();
      await tmp.remove();
    }
  });
});
