import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import slack, { renderSlackMessage, SLACK_LIMITS } from '../../notifiers/slack.js';
import { errorCode, ErrorCodes } from '../../src/errors.js';
import { linkSigner, verifyRequestUrl } from '../../src/links.js';
import { createMessageLinks } from '../../src/notify/links.js';
import type { Notifier, SendResult } from '../../src/notify/notifier.js';
import { render } from '../../src/notify/render.js';
import { startSlackServer, type TestSlackServer, validateSlackPayload } from '../helpers/slack-server.js';
import { capturingLogger, runNotifierConformance, testMessage } from './conformance.js';

/** The secret part of a webhook URL, as in Slack's: it must never leak. */
const TOKEN = 'xoxwh9f8e7d6c5b4a3';
const TIMEOUT_MS = 500;

function makeSlack(server: TestSlackServer, log = capturingLogger().log, timeoutMs = TIMEOUT_MS): Notifier {
  const config = slack.fromEnv({
    SLACK_WEBHOOK_URL: `${server.origin}/services/T0/B0/${TOKEN}`,
    SLACK_WEBHOOKS: `ops=${server.origin}/services/T1/B1/${TOKEN}ops,gone=${server.origin}/services/T2/B2/gone`,
    SLACK_HOOKS_ORIGIN: server.origin,
    SLACK_TIMEOUT_MS: String(timeoutMs),
  });
  assert.ok(config);
  return slack.create(config, { log });
}

const NAMES: Record<string, string> = { [`/services/T0/B0/${TOKEN}`]: 'default', [`/services/T1/B1/${TOKEN}ops`]: 'ops' };

runNotifierConformance('slack', async (ctx) => {
  const server = await startSlackServer();
  server.answerPath('/services/T2/B2/gone', { status: 404, body: 'channel_not_found' });
  return {
    notifier: makeSlack(server, ctx.log),
    recipient: 'ops',
    timeoutMs: TIMEOUT_MS,
    secrets: [TOKEN],
    received: () => server.received.map((r) => ({ id: r.id ?? '', title: r.title ?? '', recipient: NAMES[r.path] ?? r.path })),
    permanentProblem: () => 'gone',
    temporaryProblem: () => {
      server.answerNext({ status: 503, body: 'service_unavailable' });
      return 'ops';
    },
    hang: () => {
      server.hang(true);
      return 'ops';
    },
    reset: () => server.hang(false),
    openConnections: () => server.openConnections(),
    cleanup: () => server.close(),
  };
});

describe('slack notifier against a fake Slack', () => {
  let server: TestSlackServer;
  let notifier: Notifier;
  before(async () => {
    server = await startSlackServer();
    notifier = makeSlack(server);
  });
  after(async () => {
    await notifier.close();
    await server.close();
  });

  const expectStatus = (r: SendResult, status: SendResult['status']) => assert.equal(r.status, status, JSON.stringify(r));

  test('429 with Retry-After and 5xx are retryable; Retry-After is honoured', async () => {
    server.answerNext({ status: 429, retryAfter: '7', body: 'rate_limited' }, { status: 500, body: 'internal_error' });
    const limited = await notifier.send(testMessage(), 'ops');
    expectStatus(limited, 'retryable');
    assert.equal(limited.status === 'retryable' && limited.retryAfterMs, 7000);
    expectStatus(await notifier.send(testMessage(), 'ops'), 'retryable');
    expectStatus(await notifier.send(testMessage(), 'ops'), 'delivered');
  });

  test("4xx answers are permanent and keep Slack's text", async () => {
    for (const [status, text] of [
      [400, 'invalid_payload'],
      [403, 'invalid_token'],
      [404, 'channel_not_found'],
      [404, 'no_service'],
      [410, 'channel_is_archived'],
    ] as const) {
      server.answerNext({ status, body: text });
      const r = await notifier.send(testMessage(), 'default');
      expectStatus(r, 'permanent');
      assert.ok(r.status === 'permanent' && r.error.includes(text) && r.error.includes(String(status)), JSON.stringify(r));
      assert.ok(r.status === 'permanent' && !r.error.includes(TOKEN));
    }
  });

  test("an owner's own webhook URL on SLACK_HOOKS_ORIGIN is sent to; any other URL or name is refused without a request", async () => {
    const own = `${server.origin}/services/T9/B9/owner-${TOKEN}`;
    const message = testMessage();
    expectStatus(await notifier.send(message, own), 'delivered');
    assert.ok(server.received.some((r) => r.path === `/services/T9/B9/owner-${TOKEN}` && r.id === message.id));
    const before = server.attempts();
    for (const recipient of ['https://evil.example/services/T/B/x', `${server.origin}/admin`, 'nobody']) {
      expectStatus(await notifier.send(testMessage(), recipient), 'permanent');
    }
    assert.equal(server.attempts(), before);
  });

  test("a huge message is cut to Slack's limits and accepted", async () => {
    const message = testMessage({
      title: 'T'.repeat(500),
      text: `<b>&</b> ${'x'.repeat(10_000)}`,
      facts: Array.from({ length: 35 }, (_, i) => ({ label: `fact ${i}`, value: 'v'.repeat(3000) })),
      items: Array.from({ length: 120 }, (_, i) => ({
        title: `file-${i}.jpg`,
        status: 'failed',
        detail: 'd'.repeat(4000),
        imageUrl: 'https://cdn.example/t.webp',
        url: 'https://ns.example/f',
      })),
      imageUrl: 'https://cdn.example/chart.png',
    });
    const payload = renderSlackMessage(message);
    assert.equal(validateSlackPayload(payload), undefined);
    assert.equal(payload.blocks.length, SLACK_LIMITS.blocks);
    assert.match(JSON.stringify(payload.blocks.at(-1)), /more not shown/);
    assert.match(JSON.stringify(payload.blocks[1]), /&lt;b&gt;&amp;&lt;\/b&gt;/);
    const before = server.received.length;
    expectStatus(await notifier.send(message, 'ops'), 'delivered');
    assert.equal(server.received.length, before + 1);
    assert.deepEqual(server.rejected, []);
  });

  test('the blocks carry the same facts as the email, the image, a signed link button and the id', () => {
    const signer = linkSigner('slack-test-secret-0123456789', 60_000);
    const draft = render(
      'file.completed',
      {
        fileId: 'f1',
        owner: 'alice',
        filename: 'cat.jpg',
        status: 'completed',
        error: null,
        runStartedAt: null,
        thumbnailUrl: 'https://cdn.example/cat.webp',
        facts: [{ label: 'Size', value: '12 KB' }],
      },
      { links: createMessageLinks({ publicUrl: 'https://ns.example', signer, links: { mode: 'signed', ttlMs: 60_000 } }) },
    );
    const id = randomUUID();
    const payload = renderSlackMessage({ ...draft, id });
    const fields = payload.blocks.flatMap((b) => ('fields' in b && b.fields ? b.fields.map((f) => f.text) : []));
    assert.deepEqual(
      fields,
      (draft.facts ?? []).map((f) => `*${f.label}*\n${f.value}`),
    );
    assert.deepEqual(
      payload.blocks.map((b) => b.type),
      ['header', 'section', 'section', 'section', 'image', 'actions', 'context'],
    );
    assert.match(JSON.stringify(payload.blocks), new RegExp(id));
    assert.match(payload.text, /cat\.jpg is ready/);
    const actions = payload.blocks.find((b) => b.type === 'actions');
    const button = actions && 'elements' in actions ? actions.elements[0]?.url : undefined;
    assert.ok(button?.startsWith('https://ns.example/files/f1?exp='), button);
    assert.equal(verifyRequestUrl(signer, (button ?? '').slice('https://ns.example'.length)).ok, true);
  });
});

describe('slack config block', () => {
  test('off without a webhook; SLACK_ENABLED turns it on for owners alone, or off', () => {
    assert.equal(slack.fromEnv({}), undefined);
    assert.equal(slack.fromEnv({ SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x', SLACK_ENABLED: 'off' }), undefined);
    const owners = slack.fromEnv({ SLACK_ENABLED: 'yes' });
    assert.ok(owners);
    assert.equal(owners.targets.size, 0);
    assert.equal(owners.hooksOrigin, 'https://hooks.slack.com');
    assert.equal(owners.timeoutMs, 10_000);
    const c = slack.fromEnv({ SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x', SLACK_WEBHOOKS: 'ops=https://hooks.slack.com/services/T/B/y' });
    assert.deepEqual([...(c?.targets.keys() ?? [])].sort(), ['default', 'ops']);
  });

  test('bad values throw CONFIG_INVALID naming the key', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ SLACK_WEBHOOK_URL: 'not a url' }, 'SLACK_WEBHOOK_URL'],
      [{ SLACK_WEBHOOKS: 'https://hooks.slack.com/services/T/B/x' }, 'SLACK_WEBHOOKS'],
      [{ SLACK_WEBHOOKS: 'a=ftp://x' }, 'SLACK_WEBHOOKS'],
      [{ SLACK_WEBHOOKS: 'a=https://h/1,a=https://h/2' }, 'SLACK_WEBHOOKS'],
      [{ SLACK_ENABLED: 'perhaps' }, 'SLACK_ENABLED'],
      [{ SLACK_ENABLED: 'true', SLACK_HOOKS_ORIGIN: 'https://hooks.slack.com/services' }, 'SLACK_HOOKS_ORIGIN'],
      [{ SLACK_ENABLED: 'true', SLACK_TIMEOUT_MS: '1.5' }, 'SLACK_TIMEOUT_MS'],
    ];
    for (const [env, key] of cases) {
      assert.throws(
        () => slack.fromEnv(env),
        (err: unknown) => errorCode(err) === ErrorCodes.CONFIG_INVALID && (err as Error).message.includes(key),
        key,
      );
    }
  });

  test("an owner's address must be an incoming-webhook URL", () => {
    const validate = slack.ownerAddress?.validate;
    assert.ok(validate);
    assert.equal(validate('https://hooks.slack.com/services/T/B/x'), undefined);
    assert.equal(validate('http://127.0.0.1:9/services/T/B/x'), undefined);
    assert.ok(validate('http://hooks.slack.com/services/T/B/x'));
    assert.ok(validate('#general'));
  });
});
