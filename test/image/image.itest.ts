/**
 * Builds the image with docker/build-offline.sh and runs it with podman: /readyz, an OCR upload
 * to `completed` on SQLite and on PostgreSQL, a non-root user, a clean stop within the grace
 * period, and the image's size. `npm run test:image` (not part of `npm test`: it takes minutes).
 *
 * Environment: TEST_POSTGRES_URL (the PostgreSQL part is skipped without it), IMAGE_TEST_KEEP=1
 * keeps the built image, IMAGE_MAX_MB (default 500).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { DEBIAN_TESSDATA_DIR } from '../../jobs/lib/ocr-langs.js';
import { createTempPgDatabase, SKIP_NO_POSTGRES } from '../helpers/env.js';
import { textImage } from '../helpers/images.js';
import { upload, waitForFinal } from '../helpers/service.js';

const root = join(import.meta.dirname, '..', '..', '..');
const TOOLS = ['podman', 'debootstrap', 'runc'];
const missing = TOOLS.filter((t) => !(process.env.PATH ?? '').split(delimiter).some((d) => d !== '' && existsSync(join(d, t))));
const SKIP = missing.length === 0 ? false : `skipped: ${missing.join(', ')} not installed (apt-get install podman runc debootstrap)`;
// In CI the image test is required: a missing tool fails it instead of skipping it.
if (SKIP && process.env.CI === 'true') {
  process.stderr.write(`image test: ${SKIP.replace('skipped: ', '')}: cannot build the image in CI\n`);
  process.exit(1);
}

const TAG = `localhost/nightshift-itest:${randomBytes(4).toString('hex')}`;
const TOKEN = `itest-${randomBytes(12).toString('hex')}`;
const MAX_MB = Number(process.env.IMAGE_MAX_MB ?? 500);
/** compose's stop_grace_period and the systemd units' TimeoutStopSec are both above SHUTDOWN_TIMEOUT_MS (20 s). */
const GRACE_S = 30;
const WORDS = ['NIGHTSHIFT', 'CONTAINER', 'WORKS'];

/** podman and its flags for this host, from the same file build-offline.sh uses. */
function podmanFlags(): { podman: string[]; run: string[] } {
  const out = spawnSync('bash', ['-c', '. docker/podman.sh; printf "%s\\n" "${PODMAN[@]}"; echo --; printf "%s\\n" "${PODMAN_RUN_FLAGS[@]}"'], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.equal(out.status, 0, out.stderr);
  const [podman = '', run = ''] = out.stdout.trim().split('\n--\n');
  return { podman: podman.split('\n'), run: run.split('\n') };
}
const flags = SKIP ? { podman: ['podman'], run: [] } : podmanFlags();

function podman(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const [cmd = 'podman', ...global] = flags.podman;
  const r = spawnSync(cmd, [...global, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitReady(url: string, name: string, timeoutMs = 120_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) return Date.now() - started;
    } catch {
      // not listening yet
    }
    const state = podman('inspect', '--format', '{{.State.Status}}', name).stdout.trim();
    if (state !== 'running') throw new Error(`container ${name} is ${state}:\n${podman('logs', name).stdout.slice(-4000)}`);
    if (Date.now() - started > timeoutMs) throw new Error(`/readyz not 200 after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const log = (line: string) => process.stdout.write(`image: ${line}\n`);

describe('the nightshift image', { skip: SKIP }, () => {
  const containers: string[] = [];

  before(
    async () => {
      const logFile = join(tmpdir(), `nightshift-image-build-${process.pid}.log`);
      const started = Date.now();
      const child = spawn('bash', [join(root, 'docker', 'build-offline.sh'), TAG], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      const sink = createWriteStream(logFile);
      child.stdout.pipe(sink);
      child.stderr.pipe(sink);
      // The script's own lines (base reused or made, how long) are worth seeing as they come.
      child.stdout.on('data', (d: Buffer) => {
        for (const line of d.toString().split('\n')) if (line.startsWith('build-offline:')) log(line);
      });
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      if (code !== 0) {
        const tail = (await readFile(logFile, 'utf8')).split('\n').slice(-40).join('\n');
        throw new Error(`docker/build-offline.sh exited ${code} (log: ${logFile}):\n${tail}`);
      }
      log(`build: ${((Date.now() - started) / 1000).toFixed(0)} s (log: ${logFile})`);
    },
    { timeout: 1_800_000 },
  );

  after(() => {
    for (const name of containers) podman('rm', '--force', '--time', '0', name);
    if (process.env.IMAGE_TEST_KEEP !== '1') podman('rmi', '--force', TAG);
  });

  test(`is at most ${MAX_MB} MB`, () => {
    const bytes = Number(podman('image', 'inspect', '--format', '{{.Size}}', TAG).stdout.trim());
    const mb = bytes / 1e6;
    log(`size: ${mb.toFixed(0)} MB (${bytes} bytes)`);
    assert.ok(bytes > 0, 'image size');
    assert.ok(mb <= MAX_MB, `image is ${mb.toFixed(0)} MB, over ${MAX_MB} MB`);
  });

  test("reads English OCR data from Debian's tesseract-ocr-eng (tessdata_fast)", () => {
    // How the service resolves OCR_LANGS=eng with the image's own settings.
    const script =
      "import('/app/dist/jobs/lib/ocr-langs.js').then((m) => m.resolveLangs(['eng'], process.env.OCR_LANG_DIR)).then((s) => console.log(s.langPath, s.gzip))";
    const out = podman('run', '--rm', ...flags.run, '--entrypoint', 'node', TAG, '-e', script);
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout.trim(), `${DEBIAN_TESSDATA_DIR} false`);
    log(`OCR data: ${out.stdout.trim()}`);
  });

  test('runs as a non-root user', () => {
    assert.equal(podman('image', 'inspect', '--format', '{{.Config.User}}', TAG).stdout.trim(), 'node');
    const id = podman('run', '--rm', ...flags.run, '--entrypoint', 'id', TAG, '-u');
    assert.equal(id.status, 0, id.stderr);
    assert.notEqual(id.stdout.trim(), '0');
    log(`user: uid ${id.stdout.trim()}`);
  });

  async function uploadAndStop(label: string, env: Record<string, string>): Promise<void> {
    const port = await freePort();
    const name = `nightshift-itest-${label}-${randomBytes(3).toString('hex')}`;
    containers.push(name);
    const envArgs = Object.entries({ API_TOKEN: TOKEN, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env }).flatMap(([k, v]) => [
      '-e',
      `${k}=${v}`,
    ]);
    // The health check's interval needs systemd timers; the test runs the check itself below.
    const run = podman('run', '-d', '--name', name, ...flags.run, '--health-interval', 'disable', ...envArgs, TAG);
    assert.equal(run.status, 0, run.stderr);
    const url = `http://127.0.0.1:${port}`;

    const readyMs = await waitReady(url, name);
    log(`${label}: /readyz 200 after ${(readyMs / 1000).toFixed(1)} s`);
    const health = podman('healthcheck', 'run', name);
    assert.equal(health.status, 0, `HEALTHCHECK: ${health.stdout} ${health.stderr}`);

    const unauthorised = await upload(url, await textImage(WORDS), 'words.png', { contentType: 'image/png' });
    assert.equal(unauthorised.status, 401, 'uploads need the bearer token');
    const started = Date.now();
    const up = await upload(url, await textImage(WORDS), 'words.png', { contentType: 'image/png', token: TOKEN });
    assert.equal(up.status, 202, JSON.stringify(up.body));
    const file = await waitForFinal(url, up.body.id, 240_000, TOKEN);
    assert.equal(file.status, 'completed', JSON.stringify(file));
    const text = String(file.result?.text ?? '').toUpperCase();
    for (const w of WORDS) assert.ok(text.includes(w), `OCR text ${JSON.stringify(text)} lacks ${w}`);
    log(`${label}: upload completed in ${((Date.now() - started) / 1000).toFixed(1)} s, text ${JSON.stringify(text.trim())}`);

    const stopStarted = Date.now();
    const stop = podman('stop', '--time', String(GRACE_S), name);
    const stopS = (Date.now() - stopStarted) / 1000;
    assert.equal(stop.status, 0, stop.stderr);
    const logs = podman('logs', name).stdout;
    const exitCode = podman('inspect', '--format', '{{.State.ExitCode}}', name).stdout.trim();
    log(`${label}: podman stop took ${stopS.toFixed(1)} s, exit code ${exitCode}`);
    assert.ok(stopS < GRACE_S, `stop took ${stopS} s: the grace period ran out (SIGKILL)`);
    assert.equal(exitCode, '0', logs.slice(-3000));
    assert.match(logs, /nightshift stopped/);
    assert.doesNotMatch(logs, /"level":(50|60)/, 'no error or fatal lines');
  }

  test('on SQLite: /readyz, an OCR upload completes, podman stop ends it cleanly', { timeout: 600_000 }, () => uploadAndStop('sqlite', {}));

  test('on PostgreSQL: the same, on the host server through --network host', { skip: SKIP_NO_POSTGRES, timeout: 600_000 }, async () => {
    const db = await createTempPgDatabase();
    try {
      await uploadAndStop('postgres', { DATABASE_URL: db.url });
    } finally {
      await db.drop();
    }
  });
});
