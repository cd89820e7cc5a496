import assert from 'node:assert/strict';
import { type AddressInfo, createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';

import webhook, { parseRetryAfter, signWebhookBody, verifyWebhookSignature } from '../../notifiers/webhook.js';
import { errorCode, ErrorCodes } from '../../src/errors.js';
import type { Notifier } from '../../src/notify/notifier.js';
import { receivedId, startWebhookServer, type TestWebhookServer } from '../helpers/webhook-server.js';
import { capturingLogger, runNotifierConformance, testMessage } from './conformance.js';

const SECRET = 'whsec-0123456789-abcdef-conformance';
/** A path token, as in Slack/Teams URLs: it is a credential too and must not leak. */
const PATH_TOKEN = 'T0K3N-9f8e7d6c5b4a';
const TIMEOUT_MS = 500;

function makeWebhook(server: TestWebhookServer, log = capturingLogger().log, timeoutMs = TIMEOUT_MS): Notifier {
  const config = webhook.fromEnv({
    WEBHOOK_URLS: `ops=${server.origin}/hooks/${PATH_TOKEN},gone=${server.origin}/gone, busy=${server.origin}/busy`,
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_TIMEOUT_MS: String(timeoutMs),
  });
  assert.ok(config);
  return webhook.create(config, { log });
}

runNotifierConformance('webhook', async (ctx) => {
  const server = await startWebhookServer(SECRET);
  server.answerPath('/gone', { status: 410, body: 'this hook was deleted' });
  return {
    notifier: makeWebhook(server, ctx.log),
    recipient: 'ops',
    timeoutMs: TIMEOUT_MS,
    secrets: [SECRET, PATH_TOKEN],
    received: () =>
      server.received.map((r) => ({
        id: receivedId(r) ?? '',
        title: r.body.title,
        recipient: r.path === `/hooks/${PATH_TOKEN}` ? 'ops' : r.path,
      })),
    permanentProblem: () => 'gone',
    temporaryProblem() {
      server.answerNext({ status: 503, retryAfter: '7', body: 'maintenance' });
      return 'ops';
    },
    hang() {
      server.hang(true);
      return 'ops';
    },
    reset: () => server.hang(false),
    openConnections: () => server.openConnections(),
    cleanup: () => server.close(),
  };
});

describe('webhook notifier', () => {
  let server: TestWebhookServer;
  let notifier: Notifier;
  before(async () => {
    server = await startWebhookServer(SECRET);
    notifier = makeWebhook(server);
  });
  after(async () => {
    await notifier.close();
    await server.close();
  });

  test('posts the JSON payload with a signature, timestamp and id the receiver verifies', async () => {
    const message = testMessage({ html: '<p>not sent</p>', attachments: [{ filename: 'a.png', contentType: 'image/png', content: Buffer.from('x') }] });
    const before = Math.floor(Date.now() / 1000);
    const result = await notifier.send(message, 'ops');
    assert.deepEqual(result, { status: 'delivered', response: 'HTTP 204' });
    const got = server.received.at(-1);
    assert.ok(got);
    assert.equal(got.path, `/hooks/${PATH_TOKEN}`);
    assert.equal(got.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(got.headers['x-nightshift-id'], message.id);
    const ts = Number(got.headers['x-nightshift-timestamp']);
    assert.equal(got.headers['x-nightshift-signature'], signWebhookBody(got.rawBody, SECRET, ts));
    assert.ok(ts >= before && ts <= before + 5, `timestamp ${ts}`);
    assert.deepEqual(got.body, {
      id: message.id,
      event: 'test',
      title: message.title,
      text: message.text,
      facts: message.facts,
      items: message.items,
      url: message.url,
      imageUrl: message.imageUrl ?? null,
      links: message.links ?? {},
      data: message.data,
    });
  });

  test('optional fields arrive as empty values, not missing keys', async () => {
    const message = { id: 'n-1', event: 'file.failed' as const, title: 't', text: 'x' };
    assert.equal((await notifier.send(message, 'ops')).status, 'delivered');
    assert.deepEqual(server.received.at(-1)?.body, { ...message, facts: [], items: [], url: null, imageUrl: null, links: {}, data: {} });
  });

  test('a recipient may be the listed URL itself; anything unlisted is permanent', async () => {
    assert.equal((await notifier.send(testMessage(), `${server.origin}/hooks/${PATH_TOKEN}`)).status, 'delivered');
    const attempts = server.attempts();
    for (const r of ['nobody', `${server.origin}/other`, 'https://evil.example/hook']) {
      assert.equal((await notifier.send(testMessage(), r)).status, 'permanent', r);
    }
    assert.equal(server.attempts(), attempts, 'an unlisted recipient is never contacted');
  });

  test('status mapping: 408/429/5xx retryable with Retry-After, other 4xx permanent', async () => {
    const date = new Date(Date.now() + 30_000).toUTCString();
    const cases: Array<[number, string | undefined, string, number | undefined]> = [
      [408, undefined, 'retryable', undefined],
      [429, '12', 'retryable', 12_000],
      [429, date, 'retryable', 30_000],
      [500, undefined, 'retryable', undefined],
      [503, '1', 'retryable', 1000],
      [400, undefined, 'permanent', undefined],
      [404, undefined, 'permanent', undefined],
      [301, undefined, 'permanent', undefined],
    ];
    for (const [status, retryAfter, expected, retryAfterMs] of cases) {
      server.answerNext({ status, ...(retryAfter === undefined ? {} : { retryAfter }), body: `said ${status}` });
      const result = await notifier.send(testMessage(), 'ops');
      assert.equal(result.status, expected, `${status}: ${JSON.stringify(result)}`);
      assert.ok(result.status !== 'delivered' && result.error.includes(`HTTP ${status}`) && result.error.includes(`said ${status}`));
      if (result.status === 'retryable' && retryAfterMs !== undefined) {
        assert.ok(Math.abs((result.retryAfterMs ?? 0) - retryAfterMs) <= 1500, `${status}: ${result.retryAfterMs}`);
      }
    }
  });

  test('the receiver rejects a tampered body and a wrong secret', async () => {
    const message = testMessage();
    assert.equal((await notifier.send(message, 'ops')).status, 'delivered');
    const original = server.received.at(-1);
    assert.ok(original);
    const signature = String(original.headers['x-nightshift-signature']);
    const timestamp = String(original.headers['x-nightshift-timestamp']);
    assert.ok(verifyWebhookSignature(SECRET, original.rawBody, original.headers));
    assert.ok(verifyWebhookSignature(SECRET, Buffer.from(original.rawBody), { timestamp, signature }));
    assert.ok(verifyWebhookSignature(SECRET, original.rawBody, new Headers({ 'X-Nightshift-Timestamp': timestamp, 'X-Nightshift-Signature': signature })));

    const tampered = original.rawBody.replace('"completed":3', '"completed":4');
    assert.notEqual(tampered, original.rawBody);
    assert.equal(verifyWebhookSignature(SECRET, tampered, { timestamp, signature }), false);
    assert.equal(verifyWebhookSignature(`${SECRET}x`, original.rawBody, { timestamp, signature }), false);
    // The timestamp is signed: moving it forward breaks the signature.
    assert.equal(verifyWebhookSignature(SECRET, original.rawBody, { timestamp: String(Number(timestamp) + 1), signature }), false);
    for (const bad of [undefined, null, '', 'sha256=', 'sha256=zz', signature.slice(0, -2), signature.replace('sha256=', 'sha1='), [signature]]) {
      assert.equal(verifyWebhookSignature(SECRET, original.rawBody, { timestamp, signature: bad }), false, String(bad));
    }
    for (const bad of [undefined, '', 'soon', '-1', '1.5']) {
      assert.equal(verifyWebhookSignature(SECRET, original.rawBody, { timestamp: bad, signature }), false, String(bad));
    }

    // Replayed with the old signature over a changed body: the real receiver refuses it.
    const res = await fetch(`${server.origin}/hooks/${PATH_TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-nightshift-signature': signature, 'x-nightshift-timestamp': timestamp },
      body: tampered,
    });
    assert.equal(res.status, 401);
    assert.equal(server.badSignatures.at(-1), tampered);

    // A notifier holding the wrong secret gets a permanent 401.
    const config = webhook.fromEnv({ WEBHOOK_URLS: `ops=${server.origin}/x`, WEBHOOK_SECRET: 'another-secret-of-16+' });
    assert.ok(config);
    const wrong = webhook.create(config, { log: capturingLogger().log });
    try {
      const result = await wrong.send(testMessage(), 'ops');
      assert.equal(result.status, 'permanent');
      assert.match(result.status === 'permanent' ? result.error : '', /HTTP 401/);
    } finally {
      await wrong.close();
    }
  });

  test('a captured request replayed after 5 minutes is rejected: by verifyWebhookSignature and by the receiver', async () => {
    assert.equal((await notifier.send(testMessage(), 'ops')).status, 'delivered');
    const original = server.received.at(-1);
    assert.ok(original);
    const timestamp = Number(original.headers['x-nightshift-timestamp']);
    const sent = timestamp * 1000;
    const headers = original.headers;
    assert.ok(verifyWebhookSignature(SECRET, original.rawBody, headers, { now: sent + 299_000 }));
    assert.equal(verifyWebhookSignature(SECRET, original.rawBody, headers, { now: sent + 301_000 }), false, 'older than 5 minutes');
    assert.equal(verifyWebhookSignature(SECRET, original.rawBody, headers, { now: new Date(sent - 301_000) }), false, 'too far in the future');
    assert.ok(verifyWebhookSignature(SECRET, original.rawBody, headers, { now: sent + 3_000_000, toleranceSeconds: 3_600 }));

    // The same bytes and headers, signed 10 minutes ago (as an attacker would have captured them).
    const old = Math.floor(Date.now() / 1000) - 600;
    const res = await fetch(`${server.origin}/hooks/${PATH_TOKEN}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-nightshift-timestamp': String(old),
        'x-nightshift-signature': signWebhookBody(original.rawBody, SECRET, old),
      },
      body: original.rawBody,
    });
    assert.equal(res.status, 401);
    assert.equal(server.badSignatures.at(-1), original.rawBody);
  });

  test('a receiver that is not there answers retryable quickly, naming only the origin', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    const config = webhook.fromEnv({ WEBHOOK_URLS: `x=http://127.0.0.1:${port}/p/${PATH_TOKEN}`, WEBHOOK_SECRET: SECRET });
    assert.ok(config);
    const gone = webhook.create(config, { log: capturingLogger().log });
    try {
      const result = await gone.send(testMessage(), 'x');
      assert.equal(result.status, 'retryable');
      assert.match(JSON.stringify(result), /ECONNREFUSED/);
      assert.ok(!JSON.stringify(result).includes(PATH_TOKEN));
    } finally {
      await gone.close();
    }
  });
});

describe('webhook config block and helpers', () => {
  test('not configured without WEBHOOK_URLS; defaults', () => {
    assert.equal(webhook.fromEnv({ WEBHOOK_SECRET: SECRET }), undefined);
    const c = webhook.fromEnv({ WEBHOOK_URLS: 'a=https://h.example/x, b=http://10.0.0.1:8080/y', WEBHOOK_SECRET: SECRET });
    assert.ok(c);
    assert.deepEqual([...c.targets.keys()], ['a', 'b']);
    assert.equal(c.timeoutMs, 10_000);
  });

  test('bad values throw CONFIG_INVALID naming the key, without the secret', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ WEBHOOK_URLS: 'https://h.example/x', WEBHOOK_SECRET: SECRET }, 'WEBHOOK_URLS'],
      [{ WEBHOOK_URLS: 'a=ftp://h.example/x', WEBHOOK_SECRET: SECRET }, 'WEBHOOK_URLS'],
      [{ WEBHOOK_URLS: 'a=not a url', WEBHOOK_SECRET: SECRET }, 'WEBHOOK_URLS'],
      [{ WEBHOOK_URLS: 'a=https://h/1,a=https://h/2', WEBHOOK_SECRET: SECRET }, 'WEBHOOK_URLS'],
      [{ WEBHOOK_URLS: 'a=https://h/1' }, 'WEBHOOK_SECRET'],
      [{ WEBHOOK_URLS: 'a=https://h/1', WEBHOOK_SECRET: 'short' }, 'WEBHOOK_SECRET'],
      [{ WEBHOOK_URLS: 'a=https://h/1', WEBHOOK_SECRET: SECRET, WEBHOOK_TIMEOUT_MS: '1.5' }, 'WEBHOOK_TIMEOUT_MS'],
    ];
    for (const [env, key] of cases) {
      assert.throws(
        () => webhook.fromEnv(env),
        (err: unknown) => errorCode(err) === ErrorCodes.CONFIG_INVALID && (err as Error).message.includes(key) && !(err as Error).message.includes(SECRET),
        `${key}: ${JSON.stringify(env)}`,
      );
    }
  });

  test('parseRetryAfter reads seconds and HTTP dates', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('Tue, 01 Jan 2030 00:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Mon, 31 Dec 2029 00:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter(undefined, now), undefined);
    assert.equal(parseRetryAfter('soon', now), undefined);
  });
});
