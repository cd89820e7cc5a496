import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { loadConfig } from '../../src/registry.js';

// Compiled to <outDir>/test/docker/, so walk up to the repository root by looking for package.json.
function repoRoot(): string {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'docker'))) {
    const parent = join(dir, '..');
    if (parent === dir) throw new Error('repository root not found');
    dir = parent;
  }
  return dir;
}
const root = repoRoot();
const composeFile = join(root, 'docker', 'docker-compose.yml');

// A PATH lookup instead of `docker-compose version`: each v1 invocation costs about a second.
const hasCompose = (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, 'docker-compose')));
const SKIP_NO_COMPOSE = hasCompose ? false : 'skipped: the docker-compose binary is not installed (apt-get install docker-compose)';

/**
 * `docker-compose config` with only PATH/HOME (and API_TOKEN, which the file requires), so a
 * developer's own variables cannot make it pass.
 */
function compose(...args: string[]) {
  return composeWith({ API_TOKEN: 'a-token-of-16-chars' }, ...args);
}

function composeWith(extra: Record<string, string>, ...args: string[]) {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...extra };
  return spawnSync('docker-compose', ['-f', composeFile, ...args], { encoding: 'utf8', env, cwd: root });
}

/** The `environment:` map of one service in v1's normalised `config` output (plain `KEY: value` lines). */
function serviceEnvironment(yaml: string, service: string): Record<string, string> {
  const lines = yaml.split('\n');
  const start = lines.indexOf(`  ${service}:`);
  assert.notEqual(start, -1, `service ${service} not in config output`);
  const out: Record<string, string> = {};
  let inEnv = false;
  for (const line of lines.slice(start + 1)) {
    if (/^ {2}\S/.test(line) || /^\S/.test(line)) break;
    if (/^ {4}\S/.test(line)) {
      inEnv = line === '    environment:';
      continue;
    }
    const m = inEnv ? /^ {6}([A-Z0-9_]+): (.*)$/.exec(line) : null;
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

describe('docker-compose file', { skip: SKIP_NO_COMPOSE }, () => {
  let result: ReturnType<typeof compose>;
  before(() => {
    result = compose('config');
  });

  test('validates with docker-compose v1 on a clean environment', () => {
    assert.equal(result.status, 0, result.stderr);
  });

  test('refuses to go on without API_TOKEN, naming it', () => {
    const bare = composeWith({}, 'config');
    assert.notEqual(bare.status, 0);
    assert.match(bare.stderr, /API_TOKEN/);
  });

  test('runs nightshift with MongoDB, Redis and a MinIO bucket, and that environment passes nightshift config', () => {
    const yaml = result.stdout;
    const servicesBlock = /^services:\n((?: .*\n)+)/m.exec(yaml)?.[1] ?? '';
    const services = [...servicesBlock.matchAll(/^ {2}([a-z][a-z0-9-]*):$/gm)].map((m) => m[1]);
    assert.deepEqual(services.sort(), ['minio', 'minio-init', 'mongo', 'nightshift', 'redis']);
    assert.match(yaml, /image: mongo:7\n/);
    const env = serviceEnvironment(yaml, 'nightshift');
    assert.equal(env.DATABASE_URL, 'mongodb://mongo:27017/nightshift');
    assert.equal(env.STORAGE_URL, 's3://nightshift');
    assert.equal(env.S3_ENDPOINT, 'http://minio:9000');
    assert.equal(env.S3_FORCE_PATH_STYLE, 'true');

    // What the container would see (the Dockerfile adds HOST/PORT/DATA_DIR) must load as intended.
    const config = loadConfig({ ...env, API_TOKEN: 'a-token-of-16-chars', HOST: '0.0.0.0', PORT: '3000', DATA_DIR: '/data' });
    assert.equal(config.database.kind, 'mongodb');
    assert.equal(config.redisUrl, 'redis://redis:6379');
    assert.deepEqual(
      { ...config.storage },
      {
        kind: 's3',
        bucket: 'nightshift',
        prefix: '',
        endpoint: 'http://minio:9000',
        forcePathStyle: true,
        region: 'us-east-1',
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      },
    );
    // The stop grace period must outlast the service's own drain timeout.
    const grace = /stop_grace_period: (\d+)s/.exec(yaml)?.[1];
    assert.ok(grace !== undefined && Number(grace) * 1000 > config.shutdownTimeoutMs, `stop_grace_period ${grace}s`);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(root, 'docker', 'Dockerfile'), 'utf8');
  const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  test('every path copied from the build context exists and is not excluded by .dockerignore', () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => (m[1] ?? '').split(/\s+/));
    assert.ok(sources.includes('package-lock.json') && sources.includes('src'), sources.join(' '));
    for (const src of sources) {
      assert.ok(existsSync(join(root, src)), `COPY ${src}: not in the repository`);
      assert.ok(!ignored.includes(src), `COPY ${src}: excluded by .dockerignore`);
    }
  });

  test('runs the CLI as a non-root user with /data, a health check and the expected base image', () => {
    assert.match(dockerfile, /^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /^VOLUME \["\/data"\]$/m);
    assert.match(dockerfile, /DATA_DIR=\/data/);
    assert.match(dockerfile, /^HEALTHCHECK .*\n.*\/healthz/m);
    assert.match(dockerfile, /^CMD \["node", "dist\/src\/cli\.js", "start"\]$/m);
    const cli = join(root, 'src', 'cli.ts');
    assert.ok(existsSync(cli), 'src/cli.ts (built to dist/src/cli.js) exists');
  });
});
