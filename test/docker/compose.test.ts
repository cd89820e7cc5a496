import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { parse } from 'yaml';

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
 * Every variable the file requires, with values no default could have: a secret in the rendered
 * file that contains none of these came from the file itself.
 */
const REQUIRED = {
  API_TOKEN: 'sentinel-api-token-0001',
  MONGO_ROOT_USER: 'sentinel-mongo-user',
  MONGO_ROOT_PASSWORD: 'sentinel-mongo-password',
  REDIS_PASSWORD: 'sentinel-redis-password',
  MINIO_ROOT_USER: 'sentinel-minio-user',
  MINIO_ROOT_PASSWORD: 'sentinel-minio-password',
  POSTGRES_PASSWORD: 'sentinel-postgres-password',
} as const;
const SENTINELS = Object.values(REQUIRED);

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  profiles?: string[];
  restart?: string;
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
  container_name?: string;
}
interface Rendered {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** `docker-compose config` with only PATH/HOME and `vars`, so a developer's own variables cannot make it pass. */
function composeWith(vars: Record<string, string>, ...args: string[]) {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...vars };
  return spawnSync('docker-compose', ['-f', composeFile, ...args], { encoding: 'utf8', env, cwd: root });
}

function render(profile?: string): Rendered {
  const r = composeWith(REQUIRED, ...(profile === undefined ? [] : ['--profile', profile]), 'config');
  assert.equal(r.status, 0, r.stderr);
  return parse(r.stdout) as Rendered;
}

/** Compose's rule: a service runs when it has no profiles or one of them is enabled. v1's `config` does not apply it. */
function enabled(doc: Rendered, profiles: readonly string[]): string[] {
  return Object.entries(doc.services)
    .filter(([, s]) => (s.profiles ?? []).length === 0 || (s.profiles ?? []).some((p) => profiles.includes(p)))
    .map(([name]) => name)
    .sort();
}

/** The services `docker compose up names...` starts: those named and everything they depend on. */
function closure(doc: Rendered, names: readonly string[]): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const dep of Object.keys(doc.services[name]?.depends_on ?? {})) visit(dep);
  };
  names.forEach(visit);
  return [...seen].sort();
}

function service(doc: Rendered, name: string): Service {
  const s = doc.services[name];
  assert.ok(s, `service ${name} is in the file`);
  return s;
}

/** What the container sees (the Dockerfile adds HOST/PORT/DATA_DIR), loaded as nightshift would. */
function containerConfig(s: Service, role: 'api' | 'worker') {
  return loadConfig({ ...s.environment, HOST: '0.0.0.0', PORT: '3000', DATA_DIR: '/data' }, role);
}

const ROLES = ['migrate', 'api', 'worker'] as const;
const PG_ROLES = ['migrate-pg', 'api-pg', 'worker-pg'] as const;

describe('docker-compose file', { skip: SKIP_NO_COMPOSE }, () => {
  const docs: Record<string, Rendered> = {};
  before(() => {
    for (const profile of ['default', 'postgres', 'dev']) docs[profile] = render(profile === 'default' ? undefined : profile);
  });
  const doc = (profile = 'default') => docs[profile] ?? assert.fail(`profile ${profile} not rendered`);

  test('every profile validates with docker-compose v1 and renders the same services', () => {
    assert.deepEqual(Object.keys(doc('postgres').services).sort(), Object.keys(doc().services).sort());
    assert.deepEqual(Object.keys(doc('dev').services).sort(), Object.keys(doc().services).sort());
  });

  test('each required variable is required: rendering without it fails, naming it', () => {
    for (const name of Object.keys(REQUIRED)) {
      const rest = Object.fromEntries(Object.entries(REQUIRED).filter(([k]) => k !== name));
      const r = composeWith(rest, 'config');
      assert.notEqual(r.status, 0, `renders without ${name}`);
      assert.match(r.stderr, new RegExp(`set ${name}\\b`), `the error names ${name}`);
    }
  });

  test('no default secret: every password, key or token, and every credential in a URL, comes from a variable', () => {
    const secretKey = /PASSWORD|SECRET|TOKEN|ACCESS_KEY|_AUTH$|ROOT_USER/;
    for (const [name, s] of Object.entries(doc().services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        const credentials = /^[a-z]+:\/\/([^@/]*)@/.exec(value)?.[1];
        if (secretKey.test(key))
          assert.ok(
            SENTINELS.some((v) => value.includes(v)),
            `${name}.${key} = ${value} is not from a required variable`,
          );
        if (credentials !== undefined) {
          const password = credentials.split(':')[1] ?? '';
          assert.ok(SENTINELS.includes(password as (typeof SENTINELS)[number]), `${name}.${key}: URL password ${password} is not from a required variable`);
        }
      }
    }
  });

  test('by default: migrate, api and worker on MongoDB with auth, Redis with a password, MinIO and its bucket', () => {
    const d = doc();
    assert.deepEqual(enabled(d, []), ['api', 'migrate', 'minio', 'minio-init', 'mongo', 'redis', 'worker']);
    assert.equal(service(d, 'mongo').environment?.MONGO_INITDB_ROOT_PASSWORD, REQUIRED.MONGO_ROOT_PASSWORD);
    assert.equal(service(d, 'mongo').environment?.MONGO_INITDB_ROOT_USERNAME, REQUIRED.MONGO_ROOT_USER);
    assert.ok(service(d, 'redis').command?.join(' ').includes('--requirepass'), 'redis requires a password');
    assert.match(service(d, 'minio-init').command?.join(' ') ?? '', /mc mb --ignore-existing local\/nightshift/);
    assert.equal(service(d, 'minio').environment?.MINIO_ROOT_PASSWORD, REQUIRED.MINIO_ROOT_PASSWORD);

    const api = containerConfig(service(d, 'api'), 'api');
    assert.equal(api.database.kind, 'mongodb');
    assert.equal(api.redisUrl, `redis://:${REQUIRED.REDIS_PASSWORD}@redis:6379/0`);
    assert.deepEqual(
      { ...api.storage },
      {
        kind: 's3',
        bucket: 'nightshift',
        prefix: '',
        endpoint: 'http://minio:9000',
        forcePathStyle: true,
        region: 'us-east-1',
        accessKeyId: REQUIRED.MINIO_ROOT_USER,
        secretAccessKey: REQUIRED.MINIO_ROOT_PASSWORD,
      },
    );
    assert.equal(containerConfig(service(d, 'worker'), 'worker').database.kind, 'mongodb');
  });

  test('roles: api on 127.0.0.1 only, worker with no port (so it scales), migrate one-shot before both', () => {
    const d = doc();
    for (const [migrate, api, worker] of [ROLES, PG_ROLES]) {
      const a = service(d, api);
      const w = service(d, worker);
      const m = service(d, migrate);
      assert.deepEqual(a.command?.slice(-3), ['start', '--role', 'api']);
      assert.deepEqual(w.command?.slice(-3), ['start', '--role', 'worker']);
      assert.deepEqual(m.command?.slice(-1), ['migrate']);
      assert.deepEqual(a.ports, ['127.0.0.1:3000:3000/tcp']);
      assert.equal(w.ports, undefined, `${worker} publishes no port`);
      assert.equal(w.container_name, undefined, `${worker} has no fixed name (--scale needs that)`);
      assert.equal(m.restart, 'no');
      for (const s of [a, w]) assert.equal(s.depends_on?.[migrate]?.condition, 'service_completed_successfully');
      for (const s of [a, w]) assert.equal(s.depends_on?.['minio-init']?.condition, 'service_completed_successfully');
    }
    // The bind address is a variable, for a deployment behind its own proxy on another interface.
    const r = composeWith({ ...REQUIRED, NIGHTSHIFT_BIND: '0.0.0.0' }, 'config');
    assert.deepEqual((parse(r.stdout) as Rendered).services.api?.ports, ['0.0.0.0:3000:3000/tcp']);
  });

  test('health checks: api on /readyz, every backing service its own, none for one-shot or HTTP-less roles', () => {
    const d = doc();
    for (const api of ['api', 'api-pg']) assert.match(service(d, api).healthcheck?.test?.join(' ') ?? '', /127\.0\.0\.1:3000\/readyz/);
    for (const name of ['mongo', 'redis', 'minio', 'postgres', 'mailpit']) {
      const t = service(d, name).healthcheck?.test ?? [];
      assert.ok(t.length > 1 && t[0] !== 'NONE', `${name} has a health check`);
    }
    for (const name of ['worker', 'migrate', 'worker-pg', 'migrate-pg']) assert.deepEqual(service(d, name).healthcheck?.test, ['NONE'], name);
    for (const name of ['mongo', 'redis', 'minio', 'postgres']) {
      const dependants = Object.values(d.services).filter((s) => s.depends_on?.[name]);
      for (const s of dependants) assert.equal(s.depends_on?.[name]?.condition, 'service_healthy');
    }
  });

  test('data lives in named volumes, every one declared', () => {
    const d = doc();
    const declared = Object.keys(d.volumes ?? {});
    const used = Object.entries(d.services).flatMap(([name, s]) => (s.volumes ?? []).map((v) => ({ name, source: v.split(':')[0] ?? '' })));
    assert.ok(used.length >= 6);
    for (const { name, source } of used) {
      assert.ok(!source.startsWith('/') && !source.startsWith('.'), `${name} mounts a host path ${source}`);
      assert.ok(declared.includes(source), `${name}: volume ${source} is declared`);
    }
    for (const [name, path] of [
      ['mongo', '/data/db'],
      ['postgres', '/var/lib/postgresql/data'],
      ['minio', '/data'],
      ['redis', '/data'],
      ['api', '/data'],
    ] as const) {
      assert.ok(
        service(d, name).volumes?.some((v) => v.split(':')[1] === path),
        `${name} keeps ${path} in a volume`,
      );
    }
  });

  test('profile postgres: the PostgreSQL set starts PostgreSQL and no MongoDB, with its own blobs prefix and Redis database', () => {
    const d = doc('postgres');
    assert.deepEqual(enabled(d, ['postgres']), [...enabled(d, []), 'api-pg', 'migrate-pg', 'postgres', 'worker-pg'].sort());
    const started = closure(d, ['api-pg', 'worker-pg']);
    assert.deepEqual(started, ['api-pg', 'migrate-pg', 'minio', 'minio-init', 'postgres', 'redis', 'worker-pg']);
    for (const role of PG_ROLES) {
      const config = containerConfig(service(d, role), role === 'api-pg' ? 'api' : 'worker');
      assert.equal(config.database.kind, 'postgres');
      assert.equal(
        config.database.kind === 'postgres' ? config.database.url : '',
        `postgres://nightshift:${REQUIRED.POSTGRES_PASSWORD}@postgres:5432/nightshift`,
      );
      assert.equal(config.storage.kind === 's3' ? config.storage.prefix : '', 'pg/');
      assert.equal(config.redisUrl, `redis://:${REQUIRED.REDIS_PASSWORD}@redis:6379/1`);
    }
    assert.equal(service(d, 'postgres').environment?.POSTGRES_PASSWORD, REQUIRED.POSTGRES_PASSWORD);
  });

  test('profile dev: Mailpit, its web UI on 127.0.0.1, and roles that pass SMTP_URL through', () => {
    const d = doc('dev');
    assert.deepEqual(enabled(d, ['dev']), [...enabled(d, []), 'mailpit'].sort());
    assert.deepEqual(service(d, 'mailpit').ports, ['127.0.0.1:8025:8025/tcp']);
    const r = composeWith({ ...REQUIRED, SMTP_URL: 'smtp://mailpit:1025', MAIL_FROM: 'Nightshift <nightshift@localhost>' }, '--profile', 'dev', 'config');
    assert.equal(r.status, 0, r.stderr);
    const worker = (parse(r.stdout) as Rendered).services.worker;
    assert.ok(worker);
    assert.ok(
      containerConfig(worker, 'worker').notifiers.some((n) => n.name === 'email'),
      'the email notifier is configured',
    );
  });

  test('stop grace periods outlast the service drain timeout', () => {
    for (const name of [...ROLES, ...PG_ROLES]) {
      const s = service(doc(), name);
      const grace = /^(\d+)s$/.exec(s.stop_grace_period ?? '')?.[1];
      const config = containerConfig(s, 'worker');
      assert.ok(grace !== undefined && Number(grace) * 1000 > config.shutdownTimeoutMs, `${name}: stop_grace_period ${s.stop_grace_period}`);
    }
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
    assert.ok(sources.includes('package-lock.json') && sources.includes('src') && sources.includes('.npmrc'), sources.join(' '));
    for (const src of sources) {
      assert.ok(existsSync(join(root, src)), `COPY ${src}: not in the repository`);
      assert.ok(!ignored.includes(src), `COPY ${src}: excluded by .dockerignore`);
    }
  });

  test('runs the CLI as a non-root user with /data, a /readyz health check and the Node that CI tests', () => {
    // .node-version is what CI runs the suite on and build-offline.sh puts in the base image.
    const major = readFileSync(join(root, '.node-version'), 'utf8').trim().split('.')[0];
    assert.match(dockerfile, new RegExp(`^ARG NODE_IMAGE=node:${major}-bookworm-slim$`, 'm'));
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /^VOLUME \["\/data"\]$/m);
    assert.match(dockerfile, /DATA_DIR=\/data/);
    assert.match(dockerfile, /^HEALTHCHECK .*\n.*\/readyz/m);
    assert.match(dockerfile, /^CMD \["node", "dist\/src\/cli\.js", "start"\]$/m);
    const cli = join(root, 'src', 'cli.ts');
    assert.ok(existsSync(cli), 'src/cli.ts (built to dist/src/cli.js) exists');
  });
});
