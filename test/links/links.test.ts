import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { deriveLinkSecret, parseDuration } from '../../src/config/links.js';
import { ConfigError } from '../../src/config/section.js';
import { errorCode, ErrorCodes } from '../../src/errors.js';
import { linkPaths, linkSigner, signedParts, verifyRequestUrl } from '../../src/links.js';
import { createMessageLinks, NO_LINKS } from '../../src/notify/links.js';
import { loadConfig } from '../../src/registry.js';

const TOKEN = 'links-config-token-0123456789';
const LINE = { LINE_CHANNEL_ACCESS_TOKEN: 'line-token', LINE_CHANNEL_SECRET: '0123456789abcdef0123456789abcdef' };

/** The config issues a bad environment produces, as `key: message` lines. */
function issues(env: Record<string, string>): Array<{ key: string; message: string }> {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(errorCode(err), ErrorCodes.CONFIG_INVALID);
    return [...err.issues];
  }
  return [];
}

describe('link config (LINK_SIGNING_SECRET, LINK_TTL, LINK_MODE, PUBLIC_URL)', () => {
  test('defaults: 7 days, signed, the secret derived from API_TOKEN; none without a token', () => {
    const c = loadConfig({ API_TOKEN: TOKEN });
    assert.deepEqual(c.links, { secret: deriveLinkSecret(TOKEN), ttlMs: 7 * 86_400_000, mode: 'signed' });
    assert.notEqual(deriveLinkSecret(TOKEN), TOKEN);
    assert.equal(loadConfig({}).links.secret, undefined);
    assert.equal(loadConfig({ LINK_SIGNING_SECRET: 'explicit-secret-0123' }).links.secret, 'explicit-secret-0123');
    assert.equal(loadConfig({ API_TOKEN: TOKEN, LINK_SIGNING_SECRET: 'explicit-secret-0123' }).links.secret, 'explicit-secret-0123');
  });

  test('LINK_TTL takes 7d, 12h, 30m, 90s, 500ms and plain milliseconds', () => {
    for (const [raw, ms] of [
      ['7d', 7 * 86_400_000],
      ['12h', 12 * 3_600_000],
      ['30m', 1_800_000],
      ['90s', 90_000],
      ['1500ms', 1_500],
      ['86400000', 86_400_000],
    ] as const) {
      assert.equal(parseDuration(raw), ms, raw);
      assert.equal(loadConfig({ LINK_TTL: raw }).links.ttlMs, ms, raw);
    }
    for (const bad of ['soon', '-1d', '1w', '500', '400d']) {
      assert.deepEqual(
        issues({ LINK_TTL: bad }).map((i) => i.key),
        ['LINK_TTL'],
        bad,
      );
    }
  });

  test('LINK_MODE=presigned needs S3 storage; a short secret and an unknown mode name their key', () => {
    assert.equal(loadConfig({ LINK_MODE: 'presigned', STORAGE_URL: 's3://bucket-a' }).links.mode, 'presigned');
    assert.match(issues({ LINK_MODE: 'presigned' })[0]?.message ?? '', /S3 storage/);
    assert.deepEqual(
      issues({ LINK_MODE: 'cdn', LINK_SIGNING_SECRET: 'short' }).map((i) => i.key),
      ['LINK_SIGNING_SECRET', 'LINK_MODE'],
    );
  });

  test('with LINE, PUBLIC_URL is required and https; without it, optional but a real http(s) base URL', () => {
    assert.deepEqual(issues({ ...LINE }), [
      {
        key: 'PUBLIC_URL',
        message:
          "required with the line notifier: set it to this service's https:// address (LINE's servers fetch a message's image themselves, over HTTPS only)",
      },
    ]);
    assert.match(issues({ ...LINE, PUBLIC_URL: 'http://nightshift.example' })[0]?.message ?? '', /must be https:\/\/ with the line notifier/);
    assert.equal(loadConfig({ ...LINE, PUBLIC_URL: 'https://nightshift.example/' }).publicUrl, 'https://nightshift.example');
    // Email, Slack and webhooks: no PUBLIC_URL means messages carry no links.
    assert.equal(loadConfig({ SMTP_URL: 'smtp://mail.example:587', MAIL_FROM: 'a@b.example' }).publicUrl, undefined);
    for (const bad of ['nightshift.example', 'ftp://nightshift.example', 'https://nightshift.example/?x=1']) {
      assert.deepEqual(
        issues({ PUBLIC_URL: bad }).map((i) => i.key),
        ['PUBLIC_URL'],
        bad,
      );
    }
  });
});

describe('the signer and the link builder', () => {
  const signer = linkSigner('unit-test-secret-0123456789', 60_000);
  const now = Date.parse('2026-06-01T00:00:00Z');

  test('a link verifies for its path until it expires; altered anywhere, it does not', () => {
    const link = signer.sign(linkPaths.thumbnail('f-1'), now);
    assert.match(link, /^\/api\/v1\/files\/f-1\/thumbnail\?exp=\d+&sig=[\w-]{43}$/);
    assert.deepEqual(verifyRequestUrl(signer, link, now + 59_000), { ok: true });
    const expired = verifyRequestUrl(signer, link, now + 61_000);
    assert.equal(expired.ok === false && expired.reason, 'expired');
    for (const bad of [
      link.replace('f-1', 'f-2'),
      link.replace(/sig=(.)/, (_m, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`),
      link.replace(/exp=(\d+)/, (_m, e: string) => `exp=${Number(e) + 1}`),
      link.replace(/&sig=.*/, ''),
      `${link}&sig=again`,
      `${link}x`,
    ]) {
      const check = verifyRequestUrl(signer, bad, now);
      assert.equal(check.ok === false && check.reason, 'tampered', bad);
    }
    assert.equal(linkSigner('another-secret-0123456789', 60_000).verify(signedParts(link).path, signedParts(link), now).ok, false);
    const absent = verifyRequestUrl(signer, linkPaths.thumbnail('f-1'), now);
    assert.equal(absent.ok === false && absent.reason, 'absent');
  });

  test('the chart link signs its own query: another date or owner breaks it', () => {
    const link = signer.sign(linkPaths.chart(null, '2026-05-31'), now);
    assert.match(link, /^\/api\/v1\/summaries\/\*\/chart\.png\?date=2026-05-31&exp=\d+&sig=/);
    assert.deepEqual(verifyRequestUrl(signer, link, now), { ok: true });
    assert.equal(verifyRequestUrl(signer, link.replace('2026-05-31', '2026-05-30'), now).ok, false);
    assert.equal(verifyRequestUrl(signer, link.replace('/*/', '/alice/'), now).ok, false);
  });

  test('message links: PUBLIC_URL + signed path; unsigned without a key; none without PUBLIC_URL', async () => {
    const links = createMessageLinks({ publicUrl: 'https://ns.example', signer, links: { mode: 'signed', ttlMs: 60_000 }, now: () => now });
    assert.equal(links.page('f-1'), `https://ns.example${signer.sign('/files/f-1', now)}`);
    assert.equal(await links.thumbnail({ id: 'f-1', thumbnailKey: 'k' }), `https://ns.example${signer.sign('/api/v1/files/f-1/thumbnail', now)}`);
    assert.equal(await links.original({ id: 'f-1', blobKey: 'k' }), `https://ns.example${signer.sign('/api/v1/files/f-1/original', now)}`);
    const open = createMessageLinks({ publicUrl: 'https://ns.example', signer: undefined, links: { mode: 'signed', ttlMs: 60_000 } });
    assert.equal(open.page('f-1'), 'https://ns.example/files/f-1');
    assert.equal(NO_LINKS.page('f-1'), undefined);
    assert.equal(await NO_LINKS.thumbnail({ id: 'f-1', thumbnailKey: 'k' }), undefined);
  });
});
