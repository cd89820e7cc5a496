import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import line, { createLineClient, createLineNotifier, type LineConfig, type LineNotifier } from '../../notifiers/line.js';
import { createLogger } from '../../src/logger.js';
import type { Message, SendResult } from '../../src/notify/notifier.js';
import { type LineTestServer, startLineServer } from '../helpers/line-server.js';

const USER = `U${randomBytes(16).toString('hex')}`;
const TIMEOUT_MS = 400;

function fileResult(overrides: Partial<Message> = {}): Message {
  return {
    id: randomUUID(),
    event: 'file.completed',
    title: 'holiday.jpg is ready',
    text: 'Thumbnail, OCR and analysis finished.',
    facts: [
      { label: 'Size', value: '2.4 MB' },
      { label: 'Labels', value: 'beach, sky' },
    ],
    items: [{ title: 'holiday.jpg', status: 'completed', imageUrl: 'https://cdn.example.com/t/holiday.jpg' }],
    imageUrl: 'https://cdn.example.com/t/holiday.jpg',
    url: 'https://nightshift.example.com/files/42',
    ...overrides,
  };
}

function assertStatus<S extends SendResult['status']>(r: SendResult, status: S): asserts r is Extract<SendResult, { status: S }> {
  assert.equal(r.status, status, `expected ${status}, got ${JSON.stringify(r)}`);
}

describe('LINE notifier against a local LINE API server', () => {
  let server: LineTestServer;
  let notifier: LineNotifier;
  let config: LineConfig;

  before(async () => {
    server = await startLineServer();
    config = { channelAccessToken: server.token, channelSecret: undefined, apiBaseUrl: server.url, timeoutMs: TIMEOUT_MS };
    notifier = createLineNotifier(config, { log: createLogger('silent') });
  });
  after(async () => {
    await notifier.close();
    await server.close();
  });

  test('a file-result Flex message is accepted by the validating server', async () => {
    const message = fileResult();
    const r = await notifier.send(message, USER);
    assertStatus(r, 'delivered');
    assert.match(r.response ?? '', /request [0-9a-f-]{36} sentMessages=\d+/);
    const d = server.deliveries.find((x) => x.retryKey === message.id);
    assert.ok(d, 'delivery recorded under the retry key');
    assert.equal(d.to, USER);
    const sent = d.messages[0] as { type: string; altText: string; contents: { hero?: { url: string }; footer?: unknown } };
    assert.equal(sent.type, 'flex');
    assert.equal(sent.altText, 'holiday.jpg is ready\nThumbnail, OCR and analysis finished.');
    assert.equal(sent.contents.hero?.url, 'https://cdn.example.com/t/holiday.jpg');
    assert.ok(sent.contents.footer);
  });

  test('a plain message goes as text', async () => {
    const message: Message = { id: randomUUID(), event: 'test', title: 'Test', text: 'hello from nightshift' };
    assertStatus(await notifier.send(message, USER), 'delivered');
    const d = server.deliveries.find((x) => x.retryKey === message.id);
    assert.deepEqual(d?.messages, [{ type: 'text', text: 'Test\n\nhello from nightshift' }]);
  });

  test('500 twice then 200: delivered exactly once, every attempt carried the same retry key', async () => {
    const message = fileResult();
    server.script({ kind: 'status', status: 500 }, { kind: 'status', status: 500 });
    const results: SendResult[] = [];
    for (let i = 0; i < 3; i++) results.push(await notifier.send(message, USER));
    assert.deepEqual(
      results.map((r) => r.status),
      ['retryable', 'retryable', 'delivered'],
    );
    assertStatus(results[0]!, 'retryable');
    assert.match(results[0].error, /LINE 500/);
    // A fourth send (an outbox that did not see the answer) is blocked by LINE as already accepted.
    assertStatus(await notifier.send(message, USER), 'delivered');
    const attempts = server.attempts.filter((a) => a.retryKey === message.id);
    assert.deepEqual(
      attempts.map((a) => a.outcome),
      [500, 500, 200, 409],
    );
    assert.equal(server.deliveries.filter((d) => d.retryKey === message.id).length, 1);
  });

  test('429 rate limit is retryable with Retry-After, or a default backoff without it', async () => {
    server.script({ kind: 'rateLimit', retryAfterSeconds: 7 }, { kind: 'rateLimit' });
    const a = await notifier.send(fileResult(), USER);
    assertStatus(a, 'retryable');
    assert.equal(a.retryAfterMs, 7_000);
    assert.equal(a.pauseChannelUntil, undefined);
    const b = await notifier.send(fileResult(), USER);
    assertStatus(b, 'retryable');
    assert.ok((b.retryAfterMs ?? 0) > 0);
    assert.match(b.error, /rate limit/);
  });

  test('429 monthly limit pauses the channel until the next month (UTC)', async () => {
    server.script({ kind: 'monthlyLimit' });
    const r = await notifier.send(fileResult(), USER);
    assertStatus(r, 'retryable');
    const now = new Date();
    assert.deepEqual(r.pauseChannelUntil, new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)));
    assert.match(r.error, /You have reached your monthly limit\./);
  });

  test('a hung request times out within ~timeout, its socket ends, and the retry delivers once', async () => {
    const message = fileResult();
    server.script({ kind: 'hang' });
    const started = Date.now();
    const r = await notifier.send(message, USER);
    const elapsed = Date.now() - started;
    assertStatus(r, 'retryable');
    assert.match(r.error, /did not answer within 400 ms/);
    assert.ok(elapsed >= TIMEOUT_MS - 20 && elapsed < TIMEOUT_MS + 1_000, `took ${elapsed} ms`);
    // The abort closed the connection: the server no longer holds the request.
    for (let i = 0; i < 50 && server.openRequests() > 0; i++) await new Promise((res) => setTimeout(res, 10));
    assert.equal(server.openRequests(), 0);

    assertStatus(await notifier.send(message, USER), 'delivered');
    const attempts = server.attempts.filter((a) => a.retryKey === message.id);
    assert.deepEqual(
      attempts.map((a) => a.outcome),
      ['hung', 200],
    );
    assert.equal(server.deliveries.filter((d) => d.retryKey === message.id).length, 1);
  });

  test('accepted but the answer was lost: the retry gets 409 already accepted and counts as delivered', async () => {
    const message = fileResult();
    server.script({ kind: 'acceptThenHang' });
    assertStatus(await notifier.send(message, USER), 'retryable');
    const r = await notifier.send(message, USER);
    assertStatus(r, 'delivered');
    assert.match(r.response ?? '', /already accepted \(request [0-9a-f-]{36}\) sentMessages=\d+/);
    assert.equal(server.deliveries.filter((d) => d.retryKey === message.id).length, 1);
  });

  test("400 is permanent and keeps LINE's text", async () => {
    const bad = await notifier.send(fileResult(), 'not-a-line-user');
    assertStatus(bad, 'permanent');
    assert.match(bad.error, /The property, 'to', in the request body is invalid/);
    server.script({ kind: 'badRequest', message: 'Failed to send messages' });
    const scripted = await notifier.send(fileResult(), USER);
    assertStatus(scripted, 'permanent');
    assert.match(scripted.error, /LINE 400: Failed to send messages/);
  });

  test('a wrong token is permanent and the token never appears in a result', async () => {
    const wrong = createLineClient({ ...config, channelAccessToken: 'wrong-token-abcdef' });
    const r = await wrong.push(fileResult(), USER);
    assertStatus(r, 'permanent');
    assert.match(r.error, /LINE 401: Authentication failed/);
    assert.ok(!JSON.stringify(r).includes('wrong-token-abcdef'));
  });

  test('connection refused is retryable', async () => {
    const gone = await startLineServer({ token: server.token });
    await gone.close();
    const client = createLineClient({ ...config, apiBaseUrl: gone.url });
    const r = await client.push(fileResult(), USER);
    assertStatus(r, 'retryable');
    assert.match(r.error, /LINE request failed/);
  });

  test('a caller abort ends the request early', async () => {
    server.script({ kind: 'hang' });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const started = Date.now();
    const r = await notifier.send(fileResult(), USER, ac.signal);
    assertStatus(r, 'retryable');
    assert.ok(Date.now() - started < TIMEOUT_MS, 'aborted before the timeout');
  });

  test('a message id that is not a UUID is refused before any request', async () => {
    const before = server.attempts.length;
    const r = await notifier.send(fileResult({ id: 'not-a-uuid' }), USER);
    assertStatus(r, 'permanent');
    assert.equal(server.attempts.length, before);
  });

  test('reply with a webhook reply token confirms an account link; a reused token is permanent', async () => {
    const replyToken = server.issueReplyToken();
    assertStatus(await notifier.reply(replyToken, 'Your account is linked.'), 'delivered');
    const d = server.deliveries.find((x) => x.replyToken === replyToken);
    assert.deepEqual(d?.messages, [{ type: 'text', text: 'Your account is linked.' }]);
    const again = await notifier.reply(replyToken, 'Your account is linked.');
    assertStatus(again, 'permanent');
    assert.match(again.error, /Invalid reply token/);
    server.scriptReply({ kind: 'status', status: 503 });
    assertStatus(await notifier.reply(server.issueReplyToken(), 'hi'), 'retryable');
  });

  test('the default export is the plugin definition', () => {
    assert.equal(line.name, 'line');
    assert.equal(line.fromEnv({}), undefined);
  });
});
