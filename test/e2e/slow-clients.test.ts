import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { createTempDir, filesUnder } from '../helpers/env.js';
import { multipartHead, rawClient } from '../helpers/raw-http.js';
import { startTestService, upload } from '../helpers/service.js';

type Started = Awaited<ReturnType<typeof startTestService>>;
const IDLE_MS = 1_500;
const REQUEST_MS = 4_000;
/** Socket timeouts fire on their own timer; the header/request checks run every second. */
const SLACK_MS = 1_500;

async function partFiles(dir: string): Promise<string[]> {
  return (await filesUnder(dir)).filter((f) => f.endsWith('.part'));
}

/** node:http, because fetch will not send a Host header of our choosing. */
function post(url: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const req = httpRequest(
      { agent: false, host: hostname, port, path, method: 'POST', headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end('{}');
  });
}

describe('slow and hostile clients (real sockets)', () => {
  let svc: Started;
  let tmp: Awaited<ReturnType<typeof createTempDir>>;
  let blobDir: string;

  before(async () => {
    tmp = await createTempDir();
    blobDir = join(tmp.dir, 'blobs');
    svc = await startTestService(
      { DATA_DIR: tmp.dir, HTTP_IDLE_TIMEOUT_MS: String(IDLE_MS), HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_MS), MAX_UPLOAD_BYTES: '10000000' },
      'api',
    );
  });
  after(async () => {
    await svc?.stop();
    await tmp?.remove();
  });

  test('50 uploads that stall mid-body are all dropped within seconds and leave no .part file', async () => {
    const clients = await Promise.all(Array.from({ length: 50 }, () => rawClient(svc.url)));
    for (const c of clients) {
      await c.write(multipartHead(svc.url, '/api/v1/files', 5_000_000));
      await c.write(Buffer.alloc(64 * 1024, 1));
    }
    // From the last byte sent: each socket's silence starts when its own writes end, at or before this.
    const start = Date.now();
    await sleep(300);
    // The stalled bodies are being written: this is what must not outlive the client.
    assert.ok((await partFiles(blobDir)).length > 0, 'no partial upload while the clients stall');
    const times = await Promise.all(clients.map((c) => c.closed(start)));
    const slowest = Math.max(...times);
    assert.ok(slowest < IDLE_MS + SLACK_MS, `slowest stalled upload dropped after ${slowest} ms`);
    await sleep(200);
    assert.deepEqual(await partFiles(blobDir), []);
    assert.deepEqual(await filesUnder(join(blobDir)), []);
    // A client that went away is no store fault: the service is ready and takes the next upload.
    assert.equal((await fetch(`${svc.url}/readyz`)).status, 200);
    assert.equal((await upload(svc.url, Buffer.from('after'), 'after.txt')).status, 202);
    await svc.blobs.delete(`originals/${(await svc.store.listFiles({ limit: 1 })).items[0]?.id ?? 'x'}`);
    console.log(`# stalled uploads: 50 dropped after ${Math.min(...times)}–${slowest} ms (HTTP_IDLE_TIMEOUT_MS=${IDLE_MS})`);
  });

  test('an upload that trickles a byte at a time is cut at HTTP_REQUEST_TIMEOUT_MS', async () => {
    const c = await rawClient(svc.url);
    const start = Date.now();
    await c.write(multipartHead(svc.url, '/api/v1/files', 1_000_000));
    const closed = c.closed(start);
    let open = true;
    void closed.then(() => (open = false));
    while (open && Date.now() - start < REQUEST_MS * 3) {
      await c.write('x').catch(() => undefined);
      await sleep(300);
    }
    const ms = await closed;
    assert.ok(ms >= REQUEST_MS - 100 && ms < REQUEST_MS + 2 * SLACK_MS, `trickling upload dropped after ${ms} ms`);
    await sleep(200);
    assert.deepEqual(await partFiles(blobDir), []);
    console.log(`# trickling upload: dropped after ${ms} ms (HTTP_REQUEST_TIMEOUT_MS=${REQUEST_MS})`);
  });

  test('a webhook whose body stalls, and headers that never end, are dropped within seconds', async () => {
    const hook = await rawClient(svc.url);
    const start = Date.now();
    const { host } = new URL(svc.url);
    await hook.write(
      `POST /webhooks/line HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\nX-Line-Signature: abc\r\n\r\n{"events":[`,
    );
    const headers = await rawClient(svc.url);
    await headers.write(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\nX-Slow: `);
    const [hookMs, headerMs] = await Promise.all([hook.closed(start), headers.closed(start)]);
    assert.ok(hookMs < IDLE_MS + SLACK_MS, `stalled webhook body dropped after ${hookMs} ms`);
    assert.ok(headerMs < IDLE_MS + SLACK_MS, `stalled headers dropped after ${headerMs} ms`);
    console.log(`# stalled webhook body dropped after ${hookMs} ms; stalled headers after ${headerMs} ms`);
  });

  test('headers past 16 KiB are refused (431) without reaching a route', async () => {
    const res = await new Promise<number>((resolve, reject) => {
      const { hostname, port } = new URL(svc.url);
      httpRequest({ agent: false, host: hostname, port, path: '/healthz', headers: { 'x-big': 'a'.repeat(20 * 1024) } }, (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(res, 431);
  });

  test('without a token, a cross-site Origin or a non-loopback Host is refused (403) on state-changing routes', async () => {
    const evilOrigin = await post(svc.url, '/api/v1/notifications/test', { origin: 'https://evil.example' });
    assert.equal(evilOrigin.status, 403);
    assert.equal((JSON.parse(evilOrigin.body) as { error: { code: string } }).error.code, 'FORBIDDEN');
    assert.equal((await post(svc.url, '/api/v1/files', { origin: 'null' })).status, 403);
    assert.equal((await post(svc.url, '/api/v1/pipeline/pause', { 'sec-fetch-site': 'cross-site' })).status, 403);
    // DNS rebinding: the browser sends the attacker's name as Host.
    assert.equal((await post(svc.url, '/api/v1/pipeline/pause', { host: 'rebind.evil.example' })).status, 403);
    // The same hook covers Agendash's POSTs and the routes of every other scope.
    assert.equal((await post(svc.url, '/dash/api/jobs/requeue', { origin: 'https://evil.example' })).status, 403);
    assert.equal((await post(svc.url, '/webhooks/line', { origin: 'https://evil.example' })).status, 403);
    // A rebound name cannot read either.
    const read = await new Promise<number>((resolve, reject) => {
      const { hostname, port } = new URL(svc.url);
      httpRequest({ agent: false, host: hostname, port, path: '/api/v1/files', headers: { host: 'rebind.evil.example:80' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(read, 403);

    // Pages on this machine, and clients that send no Origin (curl, scripts), are let through.
    assert.notEqual((await post(svc.url, '/api/v1/pipeline/resume', { origin: 'http://localhost:5173' })).status, 403);
    assert.notEqual((await post(svc.url, '/api/v1/pipeline/resume', { host: `localhost:${new URL(svc.url).port}` })).status, 403);
    assert.notEqual((await post(svc.url, '/api/v1/pipeline/resume', {})).status, 403);
  });
});

describe('stopping with hostile sockets open (real signal, real child process)', () => {
  test(
    'SIGTERM after a failed mid-stream upload, with an idle keep-alive socket and an upload under way, stops in under 5 s',
    { timeout: 60_000 },
    async () => {
      const tmp = await createTempDir();
      const cli = join(import.meta.dirname, '..', '..', 'src', 'cli.js');
      const child = spawn(process.execPath, [cli, 'start'], {
        env: {
          ...process.env,
          DATA_DIR: tmp.dir,
          PORT: '0',
          HOST: '127.0.0.1',
          LOG_LEVEL: 'info',
          DATABASE_URL: '',
          STORAGE_URL: '',
          MAX_UPLOAD_BYTES: '100000',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        let stdout = '';
        const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
        const url = await new Promise<string>((resolve, reject) => {
          child.stdout.on('data', (d: Buffer) => {
            stdout += d.toString();
            const m = /"url":"(http:[^"]+)".*nightshift started/.exec(stdout);
            if (m?.[1]) resolve(m[1]);
          });
          void exited.then(() => reject(new Error(`exited before starting: ${stdout}`)));
        });

        // An upload refused mid-stream (413 past MAX_UPLOAD_BYTES) whose client keeps the socket and sends on.
        const failed = await rawClient(url);
        await failed.write(multipartHead(url, '/api/v1/files', 10_000_000));
        for (let i = 0; i < 4 && !failed.received().includes('413'); i++) await failed.write(Buffer.alloc(64 * 1024, 2)).catch(() => undefined);
        for (let i = 0; i < 50 && !failed.received().includes('413'); i++) await sleep(20);
        assert.match(failed.received(), /^HTTP\/1\.1 413/);
        // An idle keep-alive socket after a finished request.
        const idle = await rawClient(url);
        await idle.write(`GET /healthz HTTP/1.1\r\nHost: ${new URL(url).host}\r\nConnection: keep-alive\r\n\r\n`);
        for (let i = 0; i < 50 && !idle.received().includes('"ok"'); i++) await sleep(20);
        assert.match(idle.received(), /^HTTP\/1\.1 200/);

        // And an upload still under way (headers and part of the body sent, the rest withheld).
        const stalled = await rawClient(url);
        await stalled.write(multipartHead(url, '/api/v1/files', 90_000));
        await stalled.write(Buffer.alloc(30_000, 3));
        await sleep(200);

        const start = Date.now();
        child.kill('SIGTERM');
        const code = await exited;
        const ms = Date.now() - start;
        const stalledClosedMs = await stalled.closed(start);
        failed.destroy();
        idle.destroy();
        assert.equal(code, 0, stdout.slice(-2000));
        assert.match(stdout, /nightshift stopped/);
        assert.ok(ms < 5_000, `stop took ${ms} ms`);
        assert.ok(stalledClosedMs < 5_000);
        // The cut upload's partial blob went with it, before the process exited.
        assert.deepEqual(await partFiles(join(tmp.dir, 'blobs')), []);
        console.log(
          `# SIGTERM with a failed upload's socket, an idle keep-alive socket and an upload under way: exited in ${ms} ms (the upload's socket closed after ${stalledClosedMs} ms)`,
        );
      } finally {
        child.kill('SIGKILL');
        await tmp.remove();
      }
    },
  );
});
