import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';

import { LINE_BODY_LIMITS } from '../../notifiers/lib/line-webhook-body.js';
import { createTempDir } from '../helpers/env.js';
import { type LineTestServer, startLineServer } from '../helpers/line-server.js';
import { startTestService } from '../helpers/service.js';

/**
 * POST /webhooks/line against a real service and the local LINE server: each event applies
 * once (webhookEventId) and never over a newer one, and unauthenticated or stalled bodies are
 * refused before they cost memory.
 */
const SECRET = 'fedcba9876543210fedcba9876543210';
const USER = `U${'d'.repeat(32)}`;

type Started = Awaited<ReturnType<typeof startTestService>>;

describe('LINE webhook: replay protection and body limits', { timeout: 120_000 }, () => {
  let line: LineTestServer;
  let svc: Started;
  let tmp: Awaited<ReturnType<typeof createTempDir>>;
  let seq = 0;

  before(async () => {
    line = await startLineServer();
    tmp = await createTempDir();
    svc = await startTestService({
      DATA_DIR: tmp.dir,
      LINE_CHANNEL_ACCESS_TOKEN: line.token,
      LINE_CHANNEL_SECRET: SECRET,
      LINE_API_BASE_URL: line.url,
      PUBLIC_URL: 'https://nightshift.example',
      NOTIFY_ADMINS: '',
    });
  });
  after(async () => {
    await svc?.stop();
    await line?.close();
    await tmp?.remove();
  });

  const event = (type: string, timestamp: number, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      destination: 'Uxxx',
      events: [
        {
          type,
          mode: 'active',
          timestamp,
          webhookEventId: `01HZ${String(++seq).padStart(22, '0')}`,
          deliveryContext: { isRedelivery: false },
          source: { type: 'user', userId: USER },
          ...extra,
        },
      ],
    });
  const sign = (body: string) => createHmac('sha256', SECRET).update(body).digest('base64');
  const post = (body: string, signature = sign(body)) =>
    fetch(`${svc.url}/webhooks/line`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-line-signature': signature }, body });
  const following = async () => (await svc.store.owners.get('dana'))?.lineFollowing;

  test('a replayed follow changes nothing: the same event id is applied once, an older event never over a newer one', async () => {
    await svc.store.owners.upsert('dana', { lineUserId: USER });
    const t = Date.now();
    const follow = event('follow', t);
    const unfollow = event('unfollow', t + 1_000);
    assert.equal((await post(follow)).status, 200);
    assert.equal(await following(), true);
    assert.equal((await post(unfollow)).status, 200);
    assert.equal(await following(), false);

    // The captured follow, replayed byte for byte (a valid signature): answered 200, applied never.
    const replay = await post(follow);
    assert.equal(replay.status, 200);
    assert.equal(await following(), false);
    // A fresh event id with an old timestamp (an id forgotten after its retention): still older than the unfollow.
    assert.equal((await post(event('follow', t - 60_000))).status, 200);
    assert.equal(await following(), false);

    // The id alone stops a redelivery even where the time would allow it (an operator's change in between).
    const refollow = event('follow', t + 2_000);
    assert.equal((await post(refollow)).status, 200);
    assert.equal(await following(), true);
    await svc.store.owners.setLineFollowing(USER, false);
    assert.equal((await post(refollow)).status, 200);
    assert.equal(await following(), false);
  });

  test('a replayed link-code message links once and is answered once', async () => {
    await svc.store.owners.upsert('erik', {});
    const linkRes = await fetch(`${svc.url}/api/v1/owners/erik/line-link`, { method: 'POST' });
    const { code } = (await linkRes.json()) as { code: string };
    const other = `U${'e'.repeat(32)}`;
    const body = JSON.stringify({
      destination: 'Uxxx',
      events: [
        {
          type: 'message',
          mode: 'active',
          timestamp: Date.now(),
          webhookEventId: '01HZLINKCODE0000000000000A',
          deliveryContext: { isRedelivery: false },
          replyToken: line.issueReplyToken(),
          source: { type: 'user', userId: other },
          message: { type: 'text', id: '1', text: code },
        },
      ],
    });
    const replies = () => line.deliveries.filter((d) => d.endpoint === 'reply').length;
    const before = replies();
    assert.equal((await post(body)).status, 200);
    assert.equal((await svc.store.owners.get('erik'))?.lineUserId, other);
    assert.equal(replies(), before + 1);
    assert.equal((await post(body)).status, 200);
    assert.equal(replies(), before + 1, 'the replay is not answered again');
  });

  test('a wrong signature over a full body is 401; a declared body over the limit is 413 before it is sent', async () => {
    const body = event('follow', Date.now());
    assert.equal((await post(body, sign(`${body} `))).status, 401);
    assert.equal((await post(body, 'not-base64!')).status, 401);
    const big = await raw({ 'content-length': String(LINE_BODY_LIMITS.maxBytes + 1), 'x-line-signature': sign('x') });
    assert.equal(big.status, 413);
  });

  /** A request whose headers go out and whose body never does: what it is answered, and how fast. */
  function raw(headers: Record<string, string>): Promise<{ status: number; ms: number; closed: boolean }> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const req = httpRequest(`${svc.url}/webhooks/line`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Date.now() - started, closed: res.headers.connection === 'close' }));
      });
      req.on('error', reject);
      req.flushHeaders();
    });
  }

  test('stalled bodies without a signature are refused at once, without reading them; with one, cut at the deadline', async () => {
    const stalled = await Promise.all(Array.from({ length: 100 }, () => raw({ 'content-length': '100000' })));
    for (const r of stalled) {
      assert.equal(r.status, 401);
      assert.equal(r.closed, true, 'the connection is closed, not kept for the unread body');
    }
    assert.ok(Math.max(...stalled.map((r) => r.ms)) < 3_000, `answered within ${Math.max(...stalled.map((r) => r.ms))} ms`);

    const signed = await raw({ 'content-length': '1000', 'x-line-signature': sign('{}') });
    assert.equal(signed.status, 408);
    assert.equal(signed.closed, true);
    assert.ok(signed.ms >= LINE_BODY_LIMITS.timeoutMs - 100 && signed.ms < LINE_BODY_LIMITS.timeoutMs + 3_000, `${signed.ms} ms`);
  });
});
