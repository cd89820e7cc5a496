import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { textImage } from '../helpers/images.js';
import { type ApiFile, getFile, upload } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.js');

export interface OpsTarget {
  readonly env: Record<string, string>;
  cleanup(): Promise<void>;
}

interface Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output: string;
}

interface WorkerView {
  id: string;
  role: string;
  state: 'alive' | 'stale';
  pid: number;
  jobs: string[];
  running: unknown[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * As an operator would: two `--role worker` processes and one `--role api` process spawned
 * from the built CLI, driven by `nightshift <verb>` against the same DATABASE_URL/DATA_DIR.
 */
export function opsSuite(name: string, make: () => Promise<OpsTarget>): void {
  describe(`operating nightshift on ${name}`, { timeout: 240_000 }, () => {
    let target: OpsTarget;
    let env: Record<string, string>;
    let api: Proc;
    let apiUrl = '';
    const workers: Proc[] = [];

    const spawnService = (role: 'api' | 'worker'): Proc => {
      const child = spawn(process.execPath, [CLI, 'start', '--role', role], {
        env: { ...process.env, ...env, LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const proc: Proc = { child, exited: new Promise((r) => child.on('exit', (code) => r(code))), output: '' };
      child.stdout.on('data', (d: Buffer) => (proc.output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (proc.output += d.toString()));
      return proc;
    };
    const started = (p: Proc) =>
      waitFor(
        'a process to start',
        60_000,
        async () => /nightshift started/.test(p.output) || (p.child.exitCode !== null ? Promise.reject(new Error(p.output)) : false),
      );
    const stop = async (p: Proc) => {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
      await p.exited;
    };
    const cli = (args: string[], extra: Record<string, string> = {}) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('exit', (code) => resolve({ code, stdout, stderr }));
      });
    const apiWorkers = async (): Promise<WorkerView[]> => ((await (await fetch(`${apiUrl}/api/v1/workers`)).json()) as { items: WorkerView[] }).items;
    const fileWhere = (id: string, what: string, check: (f: ApiFile) => boolean, timeoutMs = 60_000) =>
      waitFor(what, timeoutMs, async () => {
        const f = await getFile(apiUrl, id);
        return check(f) ? f : undefined;
      });

    before(async () => {
      target = await make();
      env = { ...target.env, PORT: '0', HOST: '127.0.0.1', WORKER_HEARTBEAT_MS: '300', POLL_INTERVAL_MS: '500', SHUTDOWN_TIMEOUT_MS: '3000', OCR_LANGS: 'eng' };
      // The api process migrates the store first; then the workers start side by side.
      api = spawnService('api');
      await started(api);
      apiUrl = /"url":"(http:[^"]+)"/.exec(api.output)![1]!;
      workers.push(spawnService('worker'), spawnService('worker'));
      await Promise.all(workers.map(started));
    });

    after(async () => {
      for (const p of [...workers, api]) if (p) await stop(p).catch(() => undefined);
      await target?.cleanup();
    });

    it('lists both workers alive with what they serve, and the api process', async () => {
      const r = await cli(['workers', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const list = JSON.parse(r.stdout) as WorkerView[];
      const ws = list.filter((w) => w.role === 'worker');
      assert.equal(ws.length, 2, r.stdout);
      assert.deepEqual(new Set(ws.map((w) => w.pid)), new Set(workers.map((w) => w.child.pid)));
      for (const w of ws) {
        assert.equal(w.state, 'alive');
        assert.ok(w.jobs.includes('ocr') && w.jobs.includes('process-file'));
      }
      assert.ok(list.some((w) => w.role === 'api' && w.state === 'alive'));
    });

    it('pause --job ocr holds OCR on both workers across a restart of both; resume releases it', async () => {
      const paused = await cli(['pause', '--job', 'ocr']);
      assert.equal(paused.code, 0, paused.stderr);
      const { body } = await upload(apiUrl, await textImage(['PAUSED']), 'paused.png', { owner: 'ops' });
      await fileWhere(body.id, 'the other steps to finish', (f) => f.steps.thumbnail?.status === 'completed' && f.steps.ocr?.status === 'pending');
      for (const w of workers.splice(0)) await stop(w);
      workers.push(spawnService('worker'), spawnService('worker'));
      await Promise.all(workers.map(started));
      await sleep(1500);
      assert.equal((await getFile(apiUrl, body.id)).steps.ocr?.status, 'pending', 'ocr still waits after the restart');
      const stats = (await (await fetch(`${apiUrl}/api/v1/stats`)).json()) as { jobs: Record<string, { paused: number }> };
      assert.ok(stats.jobs.ocr!.paused >= 1);
      const resumed = await cli(['resume', '--job', 'ocr']);
      assert.equal(resumed.code, 0, resumed.stderr);
      const done = await fileWhere(body.id, 'the file to complete', (f) => f.status === 'completed' || f.status === 'failed', 90_000);
      assert.equal(done.status, 'completed', JSON.stringify(done.steps));
    });

    it('kill -9 of a worker: it turns stale and its locks are released', async (t) => {
      const victim = workers[0]!;
      const killedAt = Date.now();
      victim.child.kill('SIGKILL');
      await victim.exited;
      const stale = await waitFor('the killed worker to be stale with its locks released', 15_000, async () =>
        (await apiWorkers()).find((w) => w.pid === victim.child.pid && w.state === 'stale' && (w as { locksReleasedAt?: string | null }).locksReleasedAt),
      );
      t.diagnostic(`stale and locks released ${Date.now() - killedAt} ms after kill -9 (heartbeat 300 ms)`);
      assert.ok(stale);
      workers.splice(0, 1, spawnService('worker'));
      await started(workers[0]!);
    });

    it("purge of a queued process-file job fails its file 'purged by operator', and cleanup-stuck leaves it so", async () => {
      assert.equal((await cli(['pause', '--job', 'process-file'])).code, 0);
      const { body } = await upload(apiUrl, Buffer.from('just text\n'), 'note.txt', { owner: 'ops' });
      const purged = await cli(['jobs', 'purge', '--job', 'process-file', '--json']);
      assert.equal(purged.code, 0, purged.stderr);
      assert.deepEqual(JSON.parse(purged.stdout), { purged: 1, filesFailed: 1 });
      assert.equal((await cli(['resume', '--job', 'process-file'])).code, 0);
      const failed = await getFile(apiUrl, body.id);
      assert.equal(failed.status, 'failed');
      assert.match(String(failed.error), /purged by operator/);
      // cleanup-stuck, now: its lost-work check only looks at uploaded and processing files.
      const res = await fetch(`${apiUrl}/api/v1/schedules/cleanup-stuck/run`, { method: 'POST' });
      assert.equal(res.status, 202);
      await waitFor('the cleanup run to finish', 30_000, async () => {
        const { items } = (await (await fetch(`${apiUrl}/api/v1/schedules`)).json()) as {
          items: Array<{ name: string; lastRun: { status: string; occurrence: string } | null }>;
        };
        const run = items.find((s) => s.name === 'cleanup-stuck')?.lastRun;
        return run?.occurrence.startsWith('manual:') && run.status === 'succeeded';
      });
      assert.equal((await getFile(apiUrl, body.id)).status, 'failed');
    });

    it('files reprocess --status failed re-runs every failed file with a progress bar and the count', async () => {
      const r = await cli(['files', 'reprocess', '--status', 'failed']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /reprocessing 1 files/);
      assert.match(r.stderr, /reprocessing \[.*\] 1\/1/);
      const { items } = (await (await fetch(`${apiUrl}/api/v1/files?owner=ops`)).json()) as { items: ApiFile[] };
      const note = items.find((f) => f.filename === 'note.txt')!;
      await fileWhere(note.id, 'the reprocessed file to complete', (f) => f.status === 'completed');
      const usage = await cli(['files', 'reprocess']);
      assert.equal(usage.code, 2, 'neither ids nor a filter is bad usage');
    });

    it('doctor with a wrong SMTP_URL exits 3 naming it', async () => {
      const r = await cli(['doctor', '--json'], { SMTP_URL: 'smtp://127.0.0.1:1', MAIL_FROM: 'ops@example.com', SMTP_TIMEOUT_MS: '2000' });
      assert.equal(r.code, 3, r.stderr);
      const checks = JSON.parse(r.stdout) as Array<{ key: string; ok: boolean }>;
      assert.deepEqual(
        checks.filter((c) => !c.ok).map((c) => c.key),
        ['SMTP_URL'],
      );
      assert.ok(checks.some((c) => c.key !== 'SMTP_URL' && c.ok));
    });
  });
}
