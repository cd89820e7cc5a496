import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { startWebhookServer, type TestWebhookServer } from '../helpers/webhook-server.js';

const SECRET = 'exit-test-secret-0123456789';
const notifiersDir = fileURLToPath(new URL('../../notifiers/', import.meta.url));

/** A separate process that sends through email and webhook, then closes them (or not) and falls off the end. */
const CHILD = `
import { pino } from 'pino';
const { notifierDefinitions } = await import(process.env.NOTIFIERS_DIR + 'index.js');
const notifiers = new Map();
for (const d of notifierDefinitions) {
  const config = d.fromEnv(process.env);
  if (config !== undefined) notifiers.set(d.name, d.create(config, { log: pino({ level: 'silent' }) }));
}
const message = { id: crypto.randomUUID(), event: 'test', title: 'exit test', text: 'bye' };
const results = [await notifiers.get('email').send(message, 'exit@example.test'), await notifiers.get('webhook').send(message, 'hook')];
process.stdout.write(JSON.stringify(results.map((r) => r.status)));
if (process.env.CLOSE === '1') for (const n of notifiers.values()) await n.close();
`;

/**
 * Run the child; once it has printed its results, give it `graceMs` to exit by itself before
 * killing it. `afterOutputMs` is how long it lived after printing.
 */
function runChild(env: Record<string, string>, graceMs: number): Promise<{ exited: boolean; stdout: string; afterOutputMs: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      cwd: fileURLToPath(new URL('../../../', import.meta.url)),
      env: { ...process.env, NOTIFIERS_DIR: notifiersDir, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    let printedAt = 0;
    let timer: NodeJS.Timeout | undefined;
    // A child that never prints (stuck send) is killed too, so the test cannot hang.
    const overall = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      printedAt = Date.now();
      timer ??= setTimeout(() => {
        child.kill('SIGKILL');
        resolve({ exited: false, stdout, afterOutputMs: Date.now() - printedAt });
      }, graceMs);
    });
    child.on('exit', () => {
      clearTimeout(timer);
      clearTimeout(overall);
      resolve({ exited: true, stdout, afterOutputMs: printedAt === 0 ? -1 : Date.now() - printedAt });
    });
  });
}

describe('a process that closed its notifiers exits by itself', () => {
  let smtp: TestSmtpServer;
  let hooks: TestWebhookServer;
  let env: Record<string, string>;
  before(async () => {
    smtp = await startSmtpServer();
    hooks = await startWebhookServer(SECRET);
    env = { SMTP_URL: smtp.url, MAIL_FROM: 'ns@example.test', WEBHOOK_URLS: `hook=${hooks.origin}/h`, WEBHOOK_SECRET: SECRET };
  });
  after(async () => {
    await smtp.close();
    await hooks.close();
  });

  test('with close() it exits once the sends are done; without, the open pool keeps it alive', async (t) => {
    const [closed, leaked] = await Promise.all([runChild({ ...env, CLOSE: '1' }, 3000), runChild({ ...env, CLOSE: '0' }, 1500)]);
    assert.equal(closed.stdout, '["delivered","delivered"]');
    assert.ok(closed.exited, 'still running 3 s after its sends and close()');
    t.diagnostic(`exited ${closed.afterOutputMs} ms after its sends`);
    assert.equal(leaked.stdout, '["delivered","delivered"]');
    assert.equal(leaked.exited, false, 'the control exited without close(): this test could not see a leak');
  });
});
