import assert from 'node:assert/strict';
import { type AddressInfo, createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';

import type { AddressObject } from 'mailparser';

import email, { emailMessageId, sanitizeSmtpUrl } from '../../notifiers/email.js';
import { errorCode, ErrorCodes } from '../../src/errors.js';
import type { Notifier } from '../../src/notify/notifier.js';
import { type ReceivedMail, startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { capturingLogger, runNotifierConformance, testMessage } from './conformance.js';

// Tight enough to keep the hang test short, loose enough for a first connection on a loaded 2-core box.
const TIMEOUT_MS = 1500;

function recipientOf(mail: ReceivedMail): string {
  const to = mail.parsed.to as AddressObject | undefined;
  return to?.value[0]?.address ?? '';
}

function makeEmail(server: TestSmtpServer, log = capturingLogger().log, extra: Record<string, string> = {}): Notifier {
  const config = email.fromEnv({
    SMTP_URL: server.url,
    MAIL_FROM: 'Nightshift <nightshift@example.test>',
    SMTP_TIMEOUT_MS: String(TIMEOUT_MS),
    SMTP_RATE_PER_SECOND: '50',
    ...extra,
  });
  assert.ok(config);
  return email.create(config, { log });
}

runNotifierConformance('email', async (ctx) => {
  const server = await startSmtpServer();
  return {
    notifier: makeEmail(server, ctx.log),
    recipient: 'someone@example.test',
    timeoutMs: TIMEOUT_MS,
    secrets: [server.password, encodeURIComponent(server.password)],
    received: () =>
      server.mails.map((m) => ({
        id: String(m.parsed.headers.get('x-nightshift-id') ?? ''),
        title: m.parsed.subject ?? '',
        recipient: recipientOf(m),
      })),
    permanentProblem() {
      server.script.rejectRecipients.add('nobody@example.test');
      return 'nobody@example.test';
    },
    temporaryProblem() {
      server.script.tempFailures = 1;
      return 'someone@example.test';
    },
    hang() {
      server.script.hang = true;
      return 'someone@example.test';
    },
    reset() {
      server.script.hang = false;
      server.script.tempFailures = 0;
      server.script.rejectRecipients.clear();
    },
    openConnections: () => server.openConnections(),
    cleanup: () => server.close(),
  };
});

describe('email notifier', () => {
  let server: TestSmtpServer;
  let notifier: Notifier;
  before(async () => {
    server = await startSmtpServer();
    notifier = makeEmail(server);
  });
  after(async () => {
    await notifier.close();
    await server.close();
  });

  test('the mail parses back with subject, text, HTML, recipient, ids and an inline image', async () => {
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');
    const message = testMessage({
      title: 'Résumé <ready> & done',
      text: 'Your file "a<b>.png" is ready.',
      items: [{ title: '<img src=x onerror=alert(1)>', status: 'failed', detail: 'bad & broken', imageUrl: 'javascript:alert(1)' }],
      url: 'javascript:alert(1)',
      attachments: [{ filename: 'thumb.png', contentType: 'image/png', content: png, cid: 'thumb-1@nightshift' }],
    });
    const result = await notifier.send(message, 'reader@example.test');
    assert.equal(result.status, 'delivered', JSON.stringify(result));
    const [mail] = await server.waitForMails(1);
    assert.ok(mail);
    const p = mail.parsed;
    assert.equal(p.subject, 'Résumé <ready> & done');
    assert.equal(recipientOf(mail), 'reader@example.test');
    assert.deepEqual(mail.envelope, { from: 'nightshift@example.test', to: ['reader@example.test'] });
    assert.equal(mail.user, server.user);
    assert.equal(p.from?.value[0]?.address, 'nightshift@example.test');
    assert.equal(p.messageId, emailMessageId(message.id, 'example.test'));
    assert.equal(p.headers.get('x-nightshift-id'), message.id);
    assert.equal(p.headers.get('x-nightshift-event'), 'test');

    assert.match(p.text ?? '', /Your file "a<b>\.png" is ready\./);
    assert.match(p.text ?? '', /Completed: +3/);
    assert.match(p.text ?? '', /- <img src=x onerror=alert\(1\)> \(failed\): bad & broken/);

    const html = p.html || '';
    assert.match(html, /<h1[^>]*>Résumé &lt;ready&gt; &amp; done<\/h1>/);
    assert.match(html, /Your file &quot;a&lt;b&gt;\.png&quot; is ready\./);
    assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
    assert.doesNotMatch(html, /<img src=x/);
    assert.doesNotMatch(html, /javascript:/, 'a javascript: URL must be dropped, not linked');
    assert.match(html, /<th[^>]*>Completed<\/th><td[^>]*>3<\/td>/);
    assert.match(html, /<img src="cid:thumb-1@nightshift"/);

    const inline = p.attachments.find((a) => a.cid === 'thumb-1@nightshift');
    assert.ok(inline, 'the inline image is attached with its Content-ID');
    assert.equal(inline.contentType, 'image/png');
    assert.equal(inline.contentDisposition, 'inline');
    assert.ok(inline.content.equals(png));
  });

  test('an address that is not one mailbox is refused without talking to the server', async () => {
    for (const bad of ['', 'no-at-sign', 'a@b.test, c@d.test', 'Name <a@b.test>', 'a@b.test\r\nBcc: x@y.test']) {
      const result = await notifier.send(testMessage(), bad);
      assert.equal(result.status, 'permanent', bad);
    }
  });

  test('a wrong password answers retryable and the answer carries no password', async () => {
    const wrong = `${server.password}-wrong`;
    const url = new URL(server.url);
    url.password = encodeURIComponent(wrong);
    const log = capturingLogger();
    const config = email.fromEnv({ SMTP_URL: url.toString(), MAIL_FROM: 'ns@example.test', SMTP_TIMEOUT_MS: '2000' });
    assert.ok(config);
    const bad = email.create(config, { log: log.log });
    try {
      const result = await bad.send(testMessage(), 'x@example.test');
      assert.equal(result.status, 'retryable', JSON.stringify(result));
      assert.match(JSON.stringify(result), /authentication/i);
      for (const text of [JSON.stringify(result), ...log.logLines()]) assert.ok(!text.includes(wrong), text);
    } finally {
      await bad.close();
    }
  });

  test('a server that is not there answers retryable quickly', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    const config = email.fromEnv({ SMTP_URL: `smtp://u:topsecretpw@127.0.0.1:${port}`, MAIL_FROM: 'ns@example.test', SMTP_TIMEOUT_MS: '2000' });
    assert.ok(config);
    const gone = email.create(config, { log: capturingLogger().log });
    try {
      const started = Date.now();
      const result = await gone.send(testMessage(), 'x@example.test');
      assert.equal(result.status, 'retryable', JSON.stringify(result));
      assert.ok(Date.now() - started < 2000);
      assert.ok(!JSON.stringify(result).includes('topsecretpw'));
    } finally {
      await gone.close();
    }
  });

  test('SMTP_RATE_PER_SECOND spaces the sends out', async () => {
    const limited = makeEmail(server, capturingLogger().log, { SMTP_RATE_PER_SECOND: '3', SMTP_TIMEOUT_MS: '5000' });
    try {
      const started = Date.now();
      const results = await Promise.all(Array.from({ length: 6 }, () => limited.send(testMessage(), 'rate@example.test')));
      const elapsed = Date.now() - started;
      assert.deepEqual(new Set(results.map((r) => r.status)), new Set(['delivered']));
      assert.ok(elapsed >= 900, `6 mails at 3/s took only ${elapsed} ms`);
    } finally {
      await limited.close();
    }
  });
});

describe('email config block', () => {
  test('not configured without SMTP_URL', () => {
    assert.equal(email.fromEnv({}), undefined);
    assert.equal(email.fromEnv({ SMTP_URL: '  ' }), undefined);
  });

  test('defaults and parsing', () => {
    const c = email.fromEnv({ SMTP_URL: 'smtps://me%40x.test:p%3Ass@mail.example.test', MAIL_FROM: 'Ops <ops@Example.test>' });
    assert.ok(c);
    assert.equal(c.host, 'mail.example.test');
    assert.equal(c.port, 465);
    assert.equal(c.secure, true);
    assert.equal(c.user, 'me@x.test');
    assert.equal(c.password, 'p:ss');
    assert.equal(c.ratePerSecond, 5);
    assert.equal(c.timeoutMs, 10_000);
    assert.equal(c.messageIdDomain, 'example.test');
    assert.ok(!c.safeUrl.includes('p%3Ass'));
    assert.equal(email.fromEnv({ SMTP_URL: 'smtp://h.test', MAIL_FROM: 'a@b.test' })?.port, 587);
  });

  test('bad values throw CONFIG_INVALID naming the key, without the password', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ SMTP_URL: 'smtp://u:hunter2secret@h.test' }, 'MAIL_FROM'],
      [{ SMTP_URL: 'http://u:hunter2secret@h.test', MAIL_FROM: 'a@b.test' }, 'SMTP_URL'],
      [{ SMTP_URL: 'smtp://u:hunter2secret@h.test', MAIL_FROM: 'nobody' }, 'MAIL_FROM'],
      [{ SMTP_URL: 'smtp://h.test', MAIL_FROM: 'a@b.test', SMTP_RATE_PER_SECOND: '0' }, 'SMTP_RATE_PER_SECOND'],
      [{ SMTP_URL: 'smtp://h.test', MAIL_FROM: 'a@b.test', SMTP_TIMEOUT_MS: 'soon' }, 'SMTP_TIMEOUT_MS'],
    ];
    for (const [env, key] of cases) {
      assert.throws(
        () => email.fromEnv(env),
        (err: unknown) =>
          errorCode(err) === ErrorCodes.CONFIG_INVALID && (err as Error).message.includes(key) && !(err as Error).message.includes('hunter2secret'),
        key,
      );
    }
  });

  test('sanitizeSmtpUrl hides the password of any SMTP URL in a text', () => {
    assert.equal(sanitizeSmtpUrl('failed: smtp://me:pw@h:25 and smtps://x:y@z'), 'failed: smtp://me:[redacted]@h:25 and smtps://x:[redacted]@z');
  });
});
