import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { createTempDir, createTempPgDatabase, SKIP_NO_POSTGRES } from '../helpers/env.js';
import { getFile, upload } from '../helpers/service.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { waitFor } from '../helpers/wait.js';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: string;
}

/** `nightshift start --role all` from the built CLI, as an operator runs it. */
function spawnService(env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [CLI, 'start', '--role', 'all'], {
    env: { ...process.env, ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc: Proc = { child, exited: new Promise((r) => child.on('exit', (code, signal) => r({ code, signal }))), output: '' };
  child.stdout.on('data', (d: Buffer) => (proc.output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (proc.output += d.toString()));
  return proc;
}

async function started(p: Proc): Promise<string> {
  await waitFor('the service to start', 60_000, () => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`exited early:\n${p.output}`);
    return /nightshift started/.test(p.output);
  });
  return /"url":"(http:[^"]+)"/.exec(p.output)![1]!;
}

const mailsTo = (smtp: TestSmtpServer, to: string) => smtp.mails.filter((m) => m.envelope.to.includes(to));

/**
 * The crash between a file's final status and its delivery job: the first service SIGKILLs
 * itself right after the commit (test-only fault point), a second one starts on the same
 * database, and the owner's mail still arrives, once.
 */
async function crashCase(t: { diagnostic(s: string): void }, storeEnv: Record<string, string>): Promise<void> {
  const smtp = await startSmtpServer();
  const env = {
    ...storeEnv,
    PORT: '0',
    HOST: '127.0.0.1',
    SMTP_URL: smtp.url,
    MAIL_FROM: 'nightshift@example.test',
    WORKER_HEARTBEAT_MS: '300',
    POLL_INTERVAL_MS: '500',
    SHUTDOWN_TIMEOUT_MS: '3000',
  };
  const procs: Proc[] = [];
  try {
    const first = spawnService({ ...env, NIGHTSHIFT_TEST_FAULT: 'crash-after-settle-commit' });
    procs.push(first);
    let url = await started(first);
    const put = await fetch(`${url}/api/v1/owners/alice`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'alice@example.test' }),
    });
    assert.equal(put.status, 200);
    const up = await upload(url, Buffer.from('meeting notes\n'), 'notes.txt', { owner: 'alice' });
    assert.equal(up.status, 202);

    const died = await Promise.race([first.exited, sleep(30_000).then(() => undefined)]);
    assert.deepEqual(died, { code: null, signal: 'SIGKILL' }, `the service died by SIGKILL at the fault point:\n${first.output.slice(-2000)}`);
    // (Its last log lines may be lost with it: pino writes asynchronously, and SIGKILL flushes nothing.)
    assert.equal(smtp.mails.length, 0, 'nothing was sent before the crash');

    const restartedAt = Date.now();
    const second = spawnService(env);
    procs.push(second);
    url = await started(second);
    assert.equal((await getFile(url, up.body.id)).status, 'completed', 'the status survived the crash');
    await waitFor("alice's mail after the restart", 90_000, () => mailsTo(smtp, 'alice@example.test').length >= 1);
    t.diagnostic(`delivered ${Date.now() - restartedAt} ms after the restart`);
    // Give a duplicate every chance to appear (the dead process's process-file job is re-run too).
    await sleep(3_000);
    const mails = mailsTo(smtp, 'alice@example.test');
    assert.equal(mails.length, 1, 'exactly one mail');
    assert.equal(mails[0]!.parsed.subject, 'notes.txt is ready');
    const list = (await (await fetch(`${url}/api/v1/notifications?owner=alice&event=file.completed`)).json()) as {
      items: Array<{ id: string; channel: string; status: string; attempts: number }>;
    };
    const email = list.items.filter((n) => n.channel === 'email');
    assert.equal(email.length, 1);
    assert.equal(email[0]!.status, 'sent');
    assert.equal(email[0]!.attempts, 1);
    assert.equal(mails[0]!.parsed.headers.get('x-nightshift-id'), email[0]!.id);
  } finally {
    for (const p of procs) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
      await p.exited;
    }
    await smtp.close();
  }
}

describe('a crash between the settle commit and the delivery job still delivers exactly once', { timeout: 240_000 }, () => {
  test('on SQLite', async (t) => {
    const tmp = await createTempDir();
    try {
      await crashCase(t, { DATA_DIR: tmp.dir });
    } finally {
      await tmp.remove();
    }
  });

  test('on PostgreSQL', { skip: SKIP_NO_POSTGRES }, async (t) => {
    const tmp = await createTempDir();
    const db = await createTempPgDatabase();
    try {
      await crashCase(t, { DATA_DIR: tmp.dir, DATABASE_URL: db.url });
    } finally {
      await db.drop();
      await tmp.remove();
    }
  });
});
