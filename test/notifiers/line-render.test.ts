import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';

import { bubbleBytes, truncate } from '../../notifiers/lib/line-render.js';
import { isLineUserId, LINE_LIMITS, lineConfigFromEnv, renderLineMessage, signLineBody, verifyLineSignature } from '../../notifiers/line.js';
import { errorCode, ErrorCodes } from '../../src/errors.js';
import type { Message } from '../../src/notify/notifier.js';
import { validateLineMessages } from '../helpers/line-server.js';

function huge(): Message {
  const items = Array.from({ length: 300 }, (_, i) => ({
    title: `photo-${i}-${'x'.repeat(180)}.jpg`,
    status: 'failed',
    detail: `decoder said: ${'corrupt segment '.repeat(40)}`,
    imageUrl: `https://cdn.example.com/t/${i}.jpg`,
  }));
  return {
    id: randomUUID(),
    event: 'summary.daily',
    title: 'Daily summary: 300 files failed',
    text: '日本語のテキスト😀'.repeat(1_000) + 'z'.repeat(1_000),
    facts: Array.from({ length: 20 }, (_, i) => ({ label: `Fact ${i}`, value: 'v'.repeat(2_000) })),
    items,
    imageUrl: 'https://cdn.example.com/chart.png',
    url: 'https://nightshift.example.com/summary',
  };
}

describe('LINE rendering', () => {
  test("300 items and 10k-char text stay inside altText and bubble limits, and pass the server's checks", () => {
    const m = huge();
    assert.ok(m.text.length >= 10_000);
    const rendered = renderLineMessage(m);
    assert.equal(rendered.type, 'flex');
    if (rendered.type !== 'flex') return;
    assert.ok(rendered.altText.length <= LINE_LIMITS.altTextChars, `altText ${rendered.altText.length}`);
    assert.ok(rendered.altText.startsWith('Daily summary: 300 files failed\n'));
    assert.ok(rendered.altText.endsWith('…'));
    const bytes = bubbleBytes(rendered.contents as Parameters<typeof bubbleBytes>[0]);
    assert.ok(bytes <= LINE_LIMITS.bubbleBytes, `bubble ${bytes} bytes`);
    const json = JSON.stringify(rendered.contents);
    assert.match(json, /and \d+ more/);
    assert.deepEqual(validateLineMessages([rendered]), []);
  });

  test('a huge plain message becomes text of at most 5,000 chars and keeps its link', () => {
    const m: Message = { id: randomUUID(), event: 'test', title: 'T', text: 'y'.repeat(12_000), url: 'https://x.example/a' };
    const rendered = renderLineMessage(m);
    assert.equal(rendered.type, 'text');
    if (rendered.type !== 'text') return;
    assert.ok(rendered.text.length <= 5_000);
    assert.ok(rendered.text.endsWith('\n\nhttps://x.example/a'));
    assert.deepEqual(validateLineMessages([rendered]), []);
  });

  test('no hero and no button for non-https URLs; blanks never become empty text components', () => {
    const m: Message = {
      id: randomUUID(),
      event: 'file.failed',
      title: 'x.png failed',
      text: '',
      imageUrl: 'http://insecure.example/x.png',
      url: 'javascript:alert(1)',
      items: [{ title: '   ', status: '', detail: '' }],
      facts: [{ label: '', value: '' }],
    };
    const rendered = renderLineMessage(m);
    assert.equal(rendered.type, 'flex');
    if (rendered.type !== 'flex') return;
    const bubble = rendered.contents as { hero?: unknown; footer?: unknown };
    assert.equal(bubble.hero, undefined);
    assert.equal(bubble.footer, undefined);
    assert.equal(rendered.altText, 'x.png failed');
    assert.deepEqual(validateLineMessages([rendered]), []);
  });

  test('truncate never splits a surrogate pair', () => {
    const s = 'a😀😀😀';
    for (let max = 1; max <= s.length; max++) {
      const t = truncate(s, max);
      assert.ok(t.length <= max);
      assert.doesNotThrow(() => encodeURIComponent(t), `lone surrogate at max=${max}`);
    }
  });
});

describe('LINE webhook helpers', () => {
  const secret = randomBytes(16).toString('hex');
  const body = Buffer.from(JSON.stringify({ destination: 'U0', events: [{ type: 'follow' }] }));

  test("verifyLineSignature accepts LINE's signature and rejects anything else", () => {
    const sig = signLineBody(body, secret);
    assert.equal(verifyLineSignature(body, sig, secret), true);
    assert.equal(verifyLineSignature(Buffer.concat([body, Buffer.from(' ')]), sig, secret), false);
    assert.equal(verifyLineSignature(body, sig, randomBytes(16).toString('hex')), false);
    assert.equal(verifyLineSignature(body, undefined, secret), false);
    assert.equal(verifyLineSignature(body, '', secret), false);
    assert.equal(verifyLineSignature(body, 'not base64 at all!!', secret), false);
    assert.equal(verifyLineSignature(body, sig.slice(0, -4), secret), false);
  });

  test('isLineUserId', () => {
    assert.equal(isLineUserId(`U${'a1'.repeat(16)}`), true);
    assert.equal(isLineUserId(`U${'A1'.repeat(16)}`), false);
    assert.equal(isLineUserId(`C${'a1'.repeat(16)}`), false);
    assert.equal(isLineUserId(`U${'a1'.repeat(15)}`), false);
    assert.equal(isLineUserId(undefined), false);
  });
});

describe('LINE config block', () => {
  test('unset token: LINE is off', () => {
    assert.equal(lineConfigFromEnv({}), undefined);
    assert.equal(lineConfigFromEnv({ LINE_CHANNEL_ACCESS_TOKEN: '  ' }), undefined);
  });

  test('defaults and parsing', () => {
    const c = lineConfigFromEnv({ LINE_CHANNEL_ACCESS_TOKEN: 'abc+/=', LINE_CHANNEL_SECRET: 'a'.repeat(32) });
    assert.deepEqual(c, { channelAccessToken: 'abc+/=', channelSecret: 'a'.repeat(32), apiBaseUrl: 'https://api.line.me', timeoutMs: 10_000 });
    assert.ok(Object.isFrozen(c));
    const local = lineConfigFromEnv({ LINE_CHANNEL_ACCESS_TOKEN: 't', LINE_API_BASE_URL: 'http://127.0.0.1:9/', LINE_TIMEOUT_MS: '2500' });
    assert.equal(local?.apiBaseUrl, 'http://127.0.0.1:9');
    assert.equal(local?.timeoutMs, 2500);
  });

  test('bad values throw CONFIG_INVALID naming each key', () => {
    const err = (() => {
      try {
        lineConfigFromEnv({ LINE_CHANNEL_ACCESS_TOKEN: 't', LINE_TIMEOUT_MS: 'soon', LINE_CHANNEL_SECRET: 'nope', LINE_API_BASE_URL: 'ftp://x' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.equal(errorCode(err), ErrorCodes.CONFIG_INVALID);
    const msg = (err as Error).message;
    assert.ok(msg.startsWith('invalid configuration:\n  '));
    for (const key of ['LINE_TIMEOUT_MS', 'LINE_CHANNEL_SECRET', 'LINE_API_BASE_URL']) assert.match(msg, new RegExp(`  ${key}: `));
    assert.match(msg, / {2}LINE_TIMEOUT_MS: must be a whole number of milliseconds/);
    assert.throws(() => lineConfigFromEnv({ LINE_CHANNEL_ACCESS_TOKEN: 'has space' }), /LINE_CHANNEL_ACCESS_TOKEN/);
    assert.throws(() => lineConfigFromEnv({ LINE_CHANNEL_SECRET: 'a'.repeat(32) }), /LINE_CHANNEL_ACCESS_TOKEN: required when LINE_CHANNEL_SECRET/);
    assert.throws(
      () => lineConfigFromEnv({ LINE_CHANNEL_ACCESS_TOKEN: 't', LINE_TIMEOUT_MS: '0' }),
      (e: unknown) => errorCode(e) === ErrorCodes.CONFIG_INVALID,
    );
  });
});
