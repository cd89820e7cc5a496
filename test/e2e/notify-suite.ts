import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { type LineTestServer, startLineServer } from '../helpers/line-server.js';
import { startTestService, upload, waitForFinal } from '../helpers/service.js';
import { startSlackServer, type TestSlackServer } from '../helpers/slack-server.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { startWebhookServer, type TestWebhookServer } from '../helpers/webhook-server.js';

export const LINE_SECRET = '0123456789abcdef0123456789abcdef';
export const WEBHOOK_SECRET = 'webhook-secret-0123456789';
const ALICE_LINE = `U${'a'.repeat(32)}`;
const BOB_LINE = `U${'b'.repeat(32)}`;

type Started = Awaited<ReturnType<typeof startTestService>>;

export interface NotifyRig {
  smtp: TestSmtpServer;
  line: LineTestServer;
  hook: TestWebhookServer;
  /** A receiver that knows a different secret: every signature fails there. */
  wrongHook: TestWebhookServer;
  slack: TestSlackServer;
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startRig(): Promise<NotifyRig> {
  const smtp = await startSmtpServer();
  const line = await startLineServer();
  const hook = await startWebhookServer(WEBHOOK_SECRET);
  const wrongHook = await startWebhookServer('another-secret-entirely-000');
  const slack = await startSlackServer();
  return {
    smtp,
    line,
    hook,
    wrongHook,
    slack,
    env: {
      SMTP_URL: smtp.url,
      MAIL_FROM: 'nightshift@example.test',
      LINE_CHANNEL_ACCESS_TOKEN: line.token,
      LINE_CHANNEL_SECRET: LINE_SECRET,
      LINE_API_BASE_URL: line.url,
      LINE_TIMEOUT_MS: '1000',
      // LINE needs https links (a start-up error otherwise); nothing here fetches them.
      PUBLIC_URL: 'https://nightshift.test',
      WEBHOOK_URLS: `ops=${hook.origin}/hook,wrong=${wrongHook.origin}/hook`,
      WEBHOOK_SECRET,
      NOTIFY_ADMINS: 'webhook:ops',
      // Slack for owners' own webhook URLs, on the fake Slack.
      SLACK_ENABLED: 'true',
      SLACK_HOOKS_ORIGIN: slack.origin,
    },
    async close() {
      await Promise.allSettled([smtp.close(), line.close(), hook.close(), wrongHook.close(), slack.close()]);
    },
  };
}

export async function api<T = Record<string, unknown>>(svc: Started, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${svc.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Row = { id: string; status: string; event: string; channel: string; recipient: string; attempts: number; lastError: string | null; notBefore: string };

export function notifySuite(name: string, makeEnv: () => Promise<{ env: Record<string, string>; cleanup(): Promise<void> }>) {
  describe(`notifications on ${name}`, { timeout: 180_000 }, () => {
    let rig: NotifyRig;
    let svc: Started;
    let cleanup: () => Promise<void>;

    before(async () => {
      rig = await startRig();
      const made = await makeEnv();
      cleanup = made.cleanup;
      svc = await startTestService({ ...rig.env, ...made.env, NOTIFY_RULES: JSON.stringify({ 'file.failed': { windowMs: 3000 } }) });
    });
    after(async () => {
      await svc?.stop();
      await rig?.close();
      await cleanup?.();
    });

    const rows = async (q: string) => (await api<{ items: Row[] }>(svc, 'GET', `/api/v1/notifications?${q}`)).body.items;

    test('file.completed and file.failed reach email and LINE for an owner who has both', async () => {
      const put = await api(svc, 'PUT', '/api/v1/owners/alice', { email: 'alice@example.test', lineUserId: ALICE_LINE, timezone: 'Asia/Tokyo' });
      assert.equal(put.status, 200);
      const ok = await upload(svc.url, Buffer.from('meeting notes\n'), 'notes.txt', { owner: 'alice' });
      assert.equal((await waitForFinal(svc.url, ok.body.id)).status, 'completed');
      const bad = await upload(svc.url, Buffer.alloc(0), 'empty.png', { owner: 'alice' });
      assert.equal((await waitForFinal(svc.url, bad.body.id)).status, 'failed');

      const mails = await rig.smtp.waitForMails(2, 20_000);
      const toAlice = mails.filter((m) => m.envelope.to.includes('alice@example.test'));
      assert.deepEqual(toAlice.map((m) => m.parsed.subject).sort(), ['empty.png failed', 'notes.txt is ready']);
      const failedMail = toAlice.find((m) => m.parsed.subject === 'empty.png failed')!;
      assert.match(failedMail.parsed.text ?? '', /empty/);
      assert.match(String(failedMail.parsed.html), /empty\.png/);

      const pushes = await until('two LINE pushes to alice', () => {
        const d = rig.line.deliveries.filter((x) => x.to === ALICE_LINE);
        return d.length >= 2 ? d : undefined;
      });
      assert.equal(pushes.length, 2);
      const sent = await until('four sent rows', async () => {
        const r = (await rows('owner=alice&status=sent')).filter((x) => x.event.startsWith('file.'));
        return r.length === 4 ? r : undefined;
      });
      assert.deepEqual(sent.map((r) => r.channel).sort(), ['email', 'email', 'line', 'line']);
    });

    test('an owner whose address is a Slack webhook hears file.completed on Slack', async () => {
      const hook = `${rig.slack.origin}/services/T1/B1/erin-token`;
      assert.equal((await api(svc, 'PUT', '/api/v1/owners/erin', { addresses: { slack: 'not-a-webhook' } })).status, 400);
      const put = await api<{ addresses: Record<string, string> }>(svc, 'PUT', '/api/v1/owners/erin', { addresses: { slack: hook } });
      assert.equal(put.status, 200);
      assert.deepEqual(put.body.addresses, { slack: hook });
      const ok = await upload(svc.url, Buffer.from('slack notes\n'), 'slack.txt', { owner: 'erin' });
      assert.equal((await waitForFinal(svc.url, ok.body.id)).status, 'completed');
      const got = await until('a Slack message to erin', () => rig.slack.received.find((r) => r.path === '/services/T1/B1/erin-token'));
      assert.equal(got.title, 'slack.txt is ready');
      const sent = await until('the sent slack row', async () => (await rows('owner=erin&channel=slack&status=sent'))[0]);
      assert.equal(sent.id, got.id);
      assert.deepEqual(rig.slack.rejected, []);
    });

    test('LINE answering 500 twice, then 429, then hanging: each message delivered exactly once', async () => {
      const before = rig.line.deliveries.length;
      rig.line.script({ kind: 'status', status: 500 }, { kind: 'status', status: 500 });
      const a = await api<Row>(svc, 'POST', '/api/v1/notifications/test', { channel: 'line', recipient: ALICE_LINE });
      assert.equal(a.status, 202);
      await until(
        'first test message sent',
        async () => ((await api<Row>(svc, 'GET', `/api/v1/notifications/${a.body.id}`)).body.status === 'sent' ? true : undefined),
        30_000,
      );
      const attemptsA = rig.line.attempts.filter((x) => x.retryKey === a.body.id);
      assert.deepEqual(
        attemptsA.map((x) => x.outcome),
        [500, 500, 200],
      );

      rig.line.script({ kind: 'rateLimit', retryAfterSeconds: 1 });
      const b = await api<Row>(svc, 'POST', '/api/v1/notifications/test', { channel: 'line', recipient: ALICE_LINE });
      await until(
        'rate-limited message sent',
        async () => ((await api<Row>(svc, 'GET', `/api/v1/notifications/${b.body.id}`)).body.status === 'sent' ? true : undefined),
        30_000,
      );

      rig.line.script({ kind: 'hang' });
      const c = await api<Row>(svc, 'POST', '/api/v1/notifications/test', { channel: 'line', recipient: ALICE_LINE });
      await until(
        'hung message sent',
        async () => ((await api<Row>(svc, 'GET', `/api/v1/notifications/${c.body.id}`)).body.status === 'sent' ? true : undefined),
        30_000,
      );
      assert.equal(rig.line.attempts.filter((x) => x.retryKey === c.body.id)[0]?.outcome, 'hung');

      for (const id of [a.body.id, b.body.id, c.body.id]) {
        assert.equal(rig.line.deliveries.filter((d) => d.retryKey === id).length, 1, `message ${id} delivered once`);
      }
      assert.equal(rig.line.deliveries.length - before, 3);
    });

    test('a LINE answer lost after acceptance is retried with the same key and not delivered twice', async () => {
      rig.line.script({ kind: 'acceptThenHang' });
      const n = await api<Row>(svc, 'POST', '/api/v1/notifications/test', { channel: 'line', recipient: ALICE_LINE });
      const row = await until(
        'sent',
        async () => {
          const r = (await api<Row>(svc, 'GET', `/api/v1/notifications/${n.body.id}`)).body;
          return r.status === 'sent' ? r : undefined;
        },
        30_000,
      );
      assert.ok(row.attempts >= 2);
      assert.deepEqual(
        rig.line.attempts.filter((x) => x.retryKey === n.body.id).map((x) => x.outcome),
        ['hung', 409],
      );
      assert.equal(rig.line.deliveries.filter((d) => d.retryKey === n.body.id).length, 1);
    });

    test('webhooks are signed: the right secret verifies, a wrong one is refused and the row ends dead', async () => {
      const good = await api<Row>(svc, 'POST', '/api/v1/notifications/test', { channel: 'webhook', recipient: 'ops' });
      await until('webhook received', () => (rig.hook.received.some((r) => r.body.id === good.body.id) ? true : undefined));
      const bad = await api<Row>(svc, 'POST', '/api/v1/notifications/test', { channel: 'webhook', recipient: 'wrong' });
      const dead = await until('dead row', async () => {
        const r = (await api<Row>(svc, 'GET', `/api/v1/notifications/${bad.body.id}`)).body;
        return r.status === 'dead' ? r : undefined;
      });
      assert.match(String(dead.lastError), /401/);
      assert.equal(rig.wrongHook.badSignatures.length, 1);
      // A dead notification can be retried by hand.
      const retry = await api<Row>(svc, 'POST', `/api/v1/notifications/${bad.body.id}/retry`);
      assert.equal(retry.status, 202);
      assert.equal((await api(svc, 'POST', `/api/v1/notifications/${good.body.id}/retry`)).status, 409);
    });

    test('LINE linking by one-time code through the signed webhook; unfollow stops pushes', async () => {
      await api(svc, 'PUT', '/api/v1/owners/bob', { email: 'bob@example.test' });
      const link = await api<{ code: string }>(svc, 'POST', '/api/v1/owners/bob/line-link');
      assert.equal(link.status, 201);
      const event = (type: string, extra: Record<string, unknown>) =>
        JSON.stringify({ destination: 'Uxxx', events: [{ type, source: { type: 'user', userId: BOB_LINE }, timestamp: Date.now(), ...extra }] });
      const post = (body: string, secret = LINE_SECRET) =>
        fetch(`${svc.url}/webhooks/line`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-line-signature': createHmac('sha256', secret).update(body).digest('base64') },
          body,
        });
      const linkBody = event('message', { replyToken: rig.line.issueReplyToken(), message: { type: 'text', id: '1', text: link.body.code } });
      assert.equal((await post(linkBody, 'ffffffffffffffffffffffffffffffff')).status, 401);
      assert.equal((await post(linkBody)).status, 200);
      const bob = (await api<{ lineUserId: string; lineFollowing: boolean }>(svc, 'GET', '/api/v1/owners/bob')).body;
      assert.equal(bob.lineUserId, BOB_LINE);
      assert.equal(bob.lineFollowing, true);
      assert.ok(
        rig.line.deliveries.some((d) => d.endpoint === 'reply'),
        'the bot confirmed the link',
      );
      // The code works once.
      assert.equal(
        (await post(event('message', { replyToken: rig.line.issueReplyToken(), message: { type: 'text', id: '2', text: link.body.code } }))).status,
        200,
      );
      assert.equal((await api<{ lineUserId: string }>(svc, 'GET', '/api/v1/owners/bob')).body.lineUserId, BOB_LINE);

      assert.equal((await post(event('unfollow', {}))).status, 200);
      assert.equal((await api<{ lineFollowing: boolean }>(svc, 'GET', '/api/v1/owners/bob')).body.lineFollowing, false);
      const up = await upload(svc.url, Buffer.from('bob text'), 'bob.txt', { owner: 'bob' });
      await waitForFinal(svc.url, up.body.id);
      await until('bob mail', () => (rig.smtp.mails.some((m) => m.envelope.to.includes('bob@example.test')) ? true : undefined));
      assert.equal(rig.line.deliveries.filter((d) => d.to === BOB_LINE).length, 0);
    });

    test('failures within the digest window are collected into one message', async () => {
      await api(svc, 'PUT', '/api/v1/owners/carol', { email: 'carol@example.test' });
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push((await upload(svc.url, Buffer.alloc(0), `broken-${i}.png`, { owner: 'carol' })).body.id);
      for (const id of ids) await waitForFinal(svc.url, id);
      const toCarol = () => rig.smtp.mails.filter((m) => m.envelope.to.includes('carol@example.test'));
      await until('carol digest', () => (toCarol().length >= 2 ? true : undefined), 20_000);
      await new Promise((r) => setTimeout(r, 1000));
      const mails = toCarol();
      assert.equal(mails.length, 2, mails.map((m) => m.parsed.subject).join(' | '));
      assert.match(String(mails[0]!.parsed.subject), /failed/);
      assert.equal(mails[1]!.parsed.subject, '4 more files failed');
      for (let i = 1; i < 5; i++) assert.ok(/broken-\d\.png/.test(mails[1]!.parsed.text ?? ''));
    });

    test('quiet hours hold a message instead of dropping it', async () => {
      const now = new Date();
      const hhmm = (d: Date) => `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
      const start = hhmm(new Date(now.getTime() - 60 * 60_000));
      const end = hhmm(new Date(now.getTime() + 60 * 60_000));
      await api(svc, 'PUT', '/api/v1/owners/dave', { email: 'dave@example.test', timezone: 'UTC', quietHours: { start, end } });
      const up = await upload(svc.url, Buffer.from('dave'), 'dave.txt', { owner: 'dave' });
      await waitForFinal(svc.url, up.body.id);
      const row = await until('dave row', async () => (await rows('owner=dave'))[0]);
      assert.equal(row.status, 'queued');
      const wait = new Date(row.notBefore).getTime() - now.getTime();
      assert.ok(wait > 55 * 60_000 && wait <= 61 * 60_000, `held for ${wait} ms`);
      assert.equal(rig.smtp.mails.filter((m) => m.envelope.to.includes('dave@example.test')).length, 0);
    });
  });
}
