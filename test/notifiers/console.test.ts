import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import consoleNotifier from '../../notifiers/console.js';
import { notifierDefinitions } from '../../notifiers/index.js';
import type { Logger } from '../../src/logger.js';
import type { ChannelName, Notifier } from '../../src/notify/notifier.js';
import { startSmtpServer } from '../helpers/smtp-server.js';
import { capturingLogger, type ReceivedNotification, runNotifierConformance, testMessage } from './conformance.js';

/** The configured notifiers for an environment, the way the core registers them. */
function configured(env: Record<string, string>, log: Logger): Map<ChannelName, Notifier> {
  const out = new Map<ChannelName, Notifier>();
  for (const d of notifierDefinitions) {
    const config = d.fromEnv(env);
    if (config !== undefined) out.set(d.name, d.create(config, { log }));
  }
  return out;
}

const NO_FAILURE = 'console only writes a log line: it has no failure mode to provoke';

/** The notification log lines, read back the way an operator's log tooling would. */
function notificationLines(lines: string[]): ReceivedNotification[] {
  return lines
    .map((l) => JSON.parse(l) as { notifier?: string; notification?: { id: string; title: string; recipient: string } })
    .filter((l) => l.notifier === 'console' && l.notification !== undefined)
    .map((l) => ({ id: l.notification?.id ?? '', title: l.notification?.title ?? '', recipient: l.notification?.recipient ?? '' }));
}

runNotifierConformance(
  'console',
  async (ctx) => {
    const config = consoleNotifier.fromEnv({});
    assert.ok(config);
    return {
      notifier: consoleNotifier.create(config, { log: ctx.log }),
      recipient: 'owner-42',
      timeoutMs: 0,
      secrets: [],
      received: () => notificationLines(ctx.logLines()),
      cleanup: async () => undefined,
    };
  },
  { permanent: NO_FAILURE, temporary: NO_FAILURE, hang: NO_FAILURE, connections: 'console opens no connection' },
);

describe('console notifier', () => {
  test('logs title, text and recipient at info, and is always delivered', async () => {
    const ctx = capturingLogger();
    const notifier = consoleNotifier.create({}, { log: ctx.log });
    const message = testMessage({ title: 'Daily summary', text: '12 files processed' });
    assert.deepEqual(await notifier.send(message, 'ops@example.test'), { status: 'delivered', response: 'logged' });
    const [line] = ctx.logLines().map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(line);
    assert.equal(line.level, 30);
    assert.match(String(line.msg), /ops@example\.test.*Daily summary/);
    assert.deepEqual(
      { ...(line.notification as object) },
      {
        id: message.id,
        event: 'test',
        recipient: 'ops@example.test',
        title: 'Daily summary',
        text: '12 files processed',
        facts: message.facts,
        url: message.url,
      },
    );
    await notifier.close();
  });
});

describe('notifier registry', () => {
  test('lists every shipped notifier once', async () => {
    // A notifier is one file in notifiers/ named after it: the registry holds each file's notifier once.
    const files = (await readdir(join(import.meta.dirname, '..', '..', '..', 'notifiers'))).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
    assert.deepEqual(notifierDefinitions.map((d) => d.name).sort(), files.map((f) => f.replace(/\.ts$/, '')).sort());
    assert.ok(files.length >= 4);
  });

  test('a bare environment registers console only', async () => {
    const notifiers = configured({}, capturingLogger().log);
    assert.deepEqual([...notifiers.keys()], ['console']);
    for (const n of notifiers.values()) await n.close();
  });

  test('configured blocks are registered beside console', async () => {
    const smtp = await startSmtpServer();
    try {
      const notifiers = configured(
        { SMTP_URL: smtp.url, MAIL_FROM: 'ns@example.test', WEBHOOK_URLS: 'a=http://127.0.0.1:9/x', WEBHOOK_SECRET: 'sixteen-chars-secret' },
        capturingLogger().log,
      );
      assert.deepEqual([...notifiers.keys()].sort(), ['console', 'email', 'webhook']);
      const email = notifiers.get('email');
      assert.ok(email);
      assert.equal((await email.send(testMessage(), 'r@example.test')).status, 'delivered');
      for (const n of notifiers.values()) await n.close();
    } finally {
      await smtp.close();
    }
  });
});
