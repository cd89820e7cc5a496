import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import sharp from 'sharp';

import type { JobServices } from '../../src/engine/job.js';
import { createLogger } from '../../src/logger.js';
import { openPostgres, openSqlite } from '../../src/store/connect.js';
import { runDailySummary } from '../../src/summary/run.js';
import { dueWindow, summaryWindow } from '../../src/summary/time.js';
import { localDate, zonedInstant } from '../../src/timezone.js';
import { createTempDir, createTempPgDatabase, SKIP_NO_POSTGRES } from '../helpers/env.js';
import { startTestService } from '../helpers/service.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { type SeedFile, seedSqlFiles } from '../store/seed.js';

const log = createLogger('silent');
const H = 3_600_000;

describe('summary time windows', () => {
  test('a zoned instant is the wall time in that zone, also across DST', () => {
    assert.equal(zonedInstant('2026-01-10', '09:00', 'Asia/Tokyo').toISOString(), '2026-01-10T00:00:00.000Z');
    assert.equal(zonedInstant('2026-07-01', '09:00', 'Europe/Berlin').toISOString(), '2026-07-01T07:00:00.000Z');
    assert.equal(zonedInstant('2026-01-01', '09:00', 'Europe/Berlin').toISOString(), '2026-01-01T08:00:00.000Z');
    // The day of the spring change (29 March 2026) has 23 hours.
    const w = summaryWindow('2026-03-29', '09:00', 'Europe/Berlin');
    assert.equal(w.to.getTime() - w.from.getTime(), 23 * H);
  });

  test("the due summary is today's after the local time, yesterday's before it", () => {
    const before9 = new Date('2026-01-09T23:30:00Z'); // 08:30 in Tokyo on the 10th
    const after9 = new Date('2026-01-10T00:30:00Z'); // 09:30 in Tokyo
    assert.equal(dueWindow(before9, '09:00', 'Asia/Tokyo').date, '2026-01-09');
    assert.equal(dueWindow(after9, '09:00', 'Asia/Tokyo').date, '2026-01-10');
    assert.equal(localDate(after9, 'America/Los_Angeles'), '2026-01-09');
  });
});

type Kind = 'sqlite' | 'postgres';

function suite(kind: Kind, skip: string | false) {
  describe(`daily-summary on ${kind}`, { skip }, () => {
    let smtp: TestSmtpServer;
    let tmp: { dir: string; remove(): Promise<void> };
    let pgDb: { url: string; drop(): Promise<void> } | undefined;
    let service: Awaited<ReturnType<typeof startTestService>>;
    let services: JobServices;
    // The local send time is 12 hours before the test runs in UTC (so 3 hours ahead in Tokyo):
    // runs up to an hour later still see the same due dates.
    const now = new Date();
    const localTime = new Date(now.getTime() - 12 * H).toISOString().slice(11, 16);
    const aliceWindow = dueWindow(now, localTime, 'Asia/Tokyo');
    const bobWindow = dueWindow(now, localTime, 'UTC');

    before(async () => {
      smtp = await startSmtpServer();
      tmp = await createTempDir();
      let databaseUrl: string;
      if (kind === 'postgres') {
        pgDb = await createTempPgDatabase();
        databaseUrl = pgDb.url;
      } else {
        databaseUrl = `sqlite:${join(tmp.dir, 'ns.db')}`;
      }
      service = await startTestService({
        DATA_DIR: tmp.dir,
        DATABASE_URL: databaseUrl,
        SMTP_URL: smtp.url,
        MAIL_FROM: 'nightshift@example.com',
        SUMMARY_LOCAL_TIME: localTime,
        SUMMARY_TIMEZONE: 'UTC',
        NOTIFY_ADMINS: 'console:admin',
      });
      services = service.engine.services;

      await service.store.owners.upsert('alice', { email: 'alice@example.com', timezone: 'Asia/Tokyo', quotaBytes: 10_000 });
      await service.store.owners.upsert('bob', { timezone: 'UTC' });
      await service.store.owners.upsert('carol', { email: 'carol@example.com', timezone: 'UTC' });

      const t = aliceWindow.to.getTime();
      const f = (id: string, owner: string, uploadedH: number, status: SeedFile['status'], ms: number | null, error?: string): SeedFile => {
        const uploadedAt = new Date(t - uploadedH * H);
        const startedAt = status === 'uploaded' ? null : new Date(uploadedAt.getTime() + 100);
        const completedAt = ms === null || !startedAt ? null : new Date(startedAt.getTime() + ms);
        return { id, owner, status, uploadedAt, startedAt, completedAt, error: error ?? null, size: 1000, derivedBytes: 100 };
      };
      const files: SeedFile[] = [
        f('a1', 'alice', 20, 'completed', 1000),
        f('a2', 'alice', 10, 'completed', 2000),
        f('a3', 'alice', 5, 'completed', 10_000),
        f('a4', 'alice', 3, 'failed', 500, 'ocr: image is truncated'),
        f('a5', 'alice', 1, 'processing', null),
        // Before alice's window: counted in storage only.
        f('a0', 'alice', 30, 'completed', 1000),
        { id: 'b1', owner: 'bob', status: 'uploaded', uploadedAt: new Date(bobWindow.to.getTime() - 2 * H), size: 10 },
        // Inside the 48-hour look-back but outside carol's window: no message.
        { id: 'c1', owner: 'carol', status: 'uploaded', uploadedAt: new Date(bobWindow.from.getTime() - 2 * H), size: 10 },
      ];
      const db = kind === 'postgres' ? openPostgres(pgDb!.url, log, 2) : openSqlite(join(tmp.dir, 'ns.db'));
      try {
        await seedSqlFiles(db, files);
      } finally {
        await db.destroy();
      }
    });

    after(async () => {
      await service?.stop();
      await smtp?.close();
      await pgDb?.drop();
      await tmp?.remove();
    });

    test('a late run sends each due summary once, with exact numbers and an inline PNG chart', async () => {
      const first = await runDailySummary(services, now, log);
      assert.deepEqual(first, { considered: 4, sent: 3, skippedAlreadySent: 0, skippedNoActivity: 1, skippedNoRecipients: 0 });

      const rows = (await service.store.outbox.list({ event: 'summary.daily', limit: 50 })).items;
      assert.deepEqual(rows.map((r) => `${r.channel}:${r.recipient}`).sort(), ['console:admin', 'console:owner:bob', 'email:alice@example.com']);
      const alice = rows.find((r) => r.recipient === 'alice@example.com')!;
      const data = alice.message.data as { date: string; facts: Array<{ label: string; value: string }> };
      assert.equal(data.date, aliceWindow.date);
      const facts = Object.fromEntries(data.facts.map((x) => [x.label, x.value]));
      assert.deepEqual(facts, {
        Uploaded: '5',
        Completed: '3',
        Failed: '1',
        'Success rate': '75.0%',
        'Median time': '1.0 s',
        'p95 time': '10.0 s',
        Storage: '7 KB of 10 KB (66.0%)',
      });

      const [mail] = await smtp.waitForMails(1, 15_000);
      assert.ok(mail);
      assert.deepEqual(mail.envelope.to, ['alice@example.com']);
      assert.match(mail.parsed.subject ?? '', /Daily summary for alice/);
      assert.match(String(mail.parsed.html), /src="cid:chart"/);
      assert.match(mail.parsed.text ?? '', /ocr: image is truncated \(1\)/);
      const chart = mail.parsed.attachments.find((a) => a.cid === 'chart');
      assert.ok(chart, 'the chart is attached inline');
      assert.equal(chart.contentType, 'image/png');
      const meta = await sharp(chart.content).metadata();
      assert.equal(meta.format, 'png');
      assert.equal(meta.width, 720);
      assert.equal(meta.height, 300);
    });

    test('a re-run (even later, or two at once) sends nothing new', async () => {
      const [a, b] = await Promise.all([runDailySummary(services, now, log), runDailySummary(services, new Date(now.getTime() + H), log)]);
      for (const r of [a, b]) {
        assert.equal(r.skippedAlreadySent, 3, JSON.stringify([a, b]));
        assert.equal(r.sent, 0);
        assert.equal(r.skippedAlreadySent, 3);
      }
      assert.equal((await service.store.outbox.list({ event: 'summary.daily', limit: 50 })).items.length, 3);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(smtp.mails.length, 1);
    });

    test('GET /api/v1/summaries/:owner?date= answers the same numbers', async () => {
      const res = await fetch(`${service.url}/api/v1/summaries/alice?date=${aliceWindow.date}`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(body.uploaded, 5);
      assert.equal(body.completed, 3);
      assert.equal(body.failed, 1);
      assert.equal(body.successRate, 0.75);
      assert.deepEqual(body.processingMs, { count: 4, median: 1000, p95: 10_000 });
      assert.deepEqual(body.storage, { usedBytes: 6600, quotaBytes: 10_000, percent: 66 });
      assert.deepEqual(body.topFailures, [{ reason: 'ocr: image is truncated', count: 1 }]);
      assert.equal((body.hourly as unknown[]).length, 24);
      assert.equal(body.from, aliceWindow.from.toISOString());

      const all = (await (await fetch(`${service.url}/api/v1/summaries/all?date=${bobWindow.date}`)).json()) as { uploaded: number };
      assert.ok(all.uploaded >= 1);

      const png = await fetch(`${service.url}/api/v1/summaries/alice/chart.png?date=${aliceWindow.date}`);
      assert.equal(png.status, 200);
      assert.equal(png.headers.get('content-type'), 'image/png');
      assert.equal((await sharp(Buffer.from(await png.arrayBuffer())).metadata()).format, 'png');

      const bad = await fetch(`${service.url}/api/v1/summaries/alice?date=2026-02-30`);
      assert.equal(bad.status, 400);
    });

    test('no activity, no message', async () => {
      // Two days on, nobody did anything in the new window.
      const later = new Date(now.getTime() + 48 * H);
      const r = await runDailySummary(services, later, log);
      assert.equal(r.sent, 0);
      assert.equal((await service.store.outbox.list({ event: 'summary.daily', limit: 50 })).items.length, 3);
    });
  });
}

suite('sqlite', false);
suite('postgres', SKIP_NO_POSTGRES);
