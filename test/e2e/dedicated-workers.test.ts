import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { textImage } from '../fixtures/images.js';
import { createTempDir, createTempPgDatabase, SKIP_NO_POSTGRES } from '../helpers/env.js';
import { type ApiFile, upload } from '../helpers/service.js';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.js');

interface Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
}

/** `nightshift start …` as an operator runs it: a real process, stopped with a real SIGTERM. */
function start(args: readonly string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [CLI, 'start', ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', POLL_INTERVAL_MS: '300', SHUTDOWN_TIMEOUT_MS: '5000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return {
    child,
    exited,
    output: () => out,
    async waitFor(re, ms = 60_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const m = re.exec(out);
        if (m) return m;
        if (child.exitCode !== null) throw new Error(`process exited (${child.exitCode}) before ${re}:\n${out}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}:\n${out.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

async function getFile(url: string, id: string): Promise<ApiFile> {
  return (await (await fetch(`${url}/api/v1/files/${id}`)).json()) as ApiFile;
}

async function poll(url: string, id: string, done: (f: ApiFile) => boolean, ms = 90_000): Promise<ApiFile> {
  const deadline = Date.now() + ms;
  for (;;) {
    const f = await getFile(url, id);
    if (done(f)) return f;
    if (Date.now() > deadline) throw new Error(`file ${id} did not get there: ${JSON.stringify(f)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode === null) p.child.kill('SIGTERM');
  assert.equal(await p.exited, 0, `clean exit:\n${p.output().slice(-2000)}`);
}

/**
 * A worker started with --jobs process-file,analyze,thumbnail does its part and leaves OCR
 * waiting; a second worker with --jobs ocr picks it up and the file completes.
 */
async function dedicatedWorkers(env: Record<string, string>): Promise<void> {
  const main = start(['--role', 'all', '--jobs', 'process-file,analyze,thumbnail'], { ...env, PORT: '0' });
  let ocr: Proc | undefined;
  try {
    const [, url] = await main.waitFor(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
    await main.waitFor(/nightshift started/);
    assert.ok(url);
    const up = await upload(url, await textImage(['DEDICATED WORKERS']), 'page.png', { contentType: 'image/png' });
    assert.equal(up.status, 202);
    const partial = await poll(url, up.body.id, (f) => f.steps.analyze?.status === 'completed' && f.steps.thumbnail?.status === 'completed');
    // Longer than a poll interval and a wake-up: nothing in this process may take the OCR job.
    await new Promise((r) => setTimeout(r, 2_000));
    const waiting = await getFile(url, up.body.id);
    assert.equal(partial.status, 'processing');
    assert.equal(waiting.status, 'processing');
    assert.equal(waiting.steps.ocr?.status, 'pending', 'OCR waits for a worker that serves it');
    assert.equal(waiting.steps.ocr?.attempts, 0);

    ocr = start(['--role', 'worker', '--jobs', 'ocr'], env);
    await ocr.waitFor(/nightshift started/);
    assert.match(ocr.output(), /"jobs":\["ocr"\]/);
    const done = await poll(url, up.body.id, (f) => f.status === 'completed' || f.status === 'failed');
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.match(String(done.result?.text ?? ''), /DEDICATED/);
  } finally {
    if (ocr) await stop(ocr);
    await stop(main);
  }
}

describe('dedicated workers (--jobs) on SQLite', () => {
  let tmp: Awaited<ReturnType<typeof createTempDir>>;
  before(async () => {
    tmp = await createTempDir();
  });
  after(async () => {
    await tmp?.remove();
  });
  test('OCR waits for a worker with --jobs ocr, then the file completes', { timeout: 180_000 }, async () => {
    await dedicatedWorkers({ DATA_DIR: tmp.dir, DATABASE_URL: '', STORAGE_URL: '' });
  });
});

describe('dedicated workers (--jobs) on PostgreSQL', { skip: SKIP_NO_POSTGRES }, () => {
  let tmp: Awaited<ReturnType<typeof createTempDir>>;
  let db: Awaited<ReturnType<typeof createTempPgDatabase>>;
  before(async () => {
    tmp = await createTempDir();
    db = await createTempPgDatabase();
  });
  after(async () => {
    await db?.drop();
    await tmp?.remove();
  });
  test('OCR waits for a worker with --jobs ocr, then the file completes', { timeout: 180_000 }, async () => {
    await dedicatedWorkers({ DATA_DIR: tmp.dir, DATABASE_URL: db.url, STORAGE_URL: `file:${join(tmp.dir, 'blobs')}` });
  });
});

test('an unknown job in --jobs or WORKER_JOBS stops start-up with the valid names', async () => {
  for (const [args, env, key] of [
    [['--role', 'worker', '--jobs', 'ocr,nope'], {}, '--jobs'],
    [['--role', 'worker'], { WORKER_JOBS: 'thumbnails' }, 'WORKER_JOBS'],
  ] as const) {
    const p = start(args, { ...env, DATA_DIR: '/nonexistent-never-created' });
    assert.equal(await p.exited, 2);
    assert.match(p.output(), new RegExp(`${key.replace(/-/g, '\\-')}: unknown job`));
    assert.match(p.output(), /valid jobs: process-file, analyze, thumbnail, ocr/);
  }
});

test('JOB_<NAME>_* knobs: a bad value stops start-up naming the key; a good one is what the worker runs', { timeout: 60_000 }, async () => {
  const bad = start(['--role', 'worker'], { JOB_OCR_CONCURRENCY: 'abc', JOB_THUMBNAIL_SOFT_TIMEOUT_MS: '999999', JOB_THUMBNAIL_TIMEOUT_MS: '1000' });
  assert.equal(await bad.exited, 2);
  assert.match(bad.output(), /JOB_OCR_CONCURRENCY: must be a whole number/);
  assert.match(bad.output(), /JOB_THUMBNAIL_SOFT_TIMEOUT_MS: must be below JOB_THUMBNAIL_TIMEOUT_MS/);

  const tmp = await createTempDir();
  try {
    const good = start(['--role', 'worker'], { DATA_DIR: tmp.dir, DATABASE_URL: '', STORAGE_URL: '', JOB_OCR_CONCURRENCY: '4', STATS_INTERVAL_SECONDS: '1' });
    const [line] = await good.waitFor(/\{[^\n]*"msg":"stats: [^\n]*/);
    const parsed = JSON.parse(line) as { jobs: Record<string, { running: number; concurrency: number }>; stats: { concurrency: number } };
    assert.equal(parsed.jobs.ocr?.concurrency, 4);
    await stop(good);
  } finally {
    await tmp.remove();
  }
});
