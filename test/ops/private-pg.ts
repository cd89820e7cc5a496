import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The newest PostgreSQL server binaries on this machine, or undefined. */
function pgBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'pg_ctl'))) return join(root, v, 'bin');
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Why a private PostgreSQL cannot be run here, or false if it can. */
export const SKIP_NO_PRIVATE_PG = pgBin() ? false : 'skipped: no PostgreSQL server binaries under /usr/lib/postgresql (initdb, pg_ctl)';

export interface PrivatePg {
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stop it and delete its directory. */
  remove(): Promise<void>;
}

/**
 * A PostgreSQL of our own on a free port in a temporary directory, which a test may stop and
 * start without touching the shared server. initdb refuses root, so it runs as `postgres`.
 */
export async function createPrivatePg(): Promise<PrivatePg> {
  const bin = pgBin();
  if (!bin) throw new Error('no PostgreSQL binaries');
  const dir = await mkdtemp(join(tmpdir(), 'ns-pg-'));
  await chmod(dir, 0o777);
  const data = join(dir, 'data');
  const port = await freePort();
  const asPg = process.getuid?.() === 0 ? (['runuser', ['-u', 'postgres', '--']] as const) : undefined;
  const exec = (cmd: string, args: string[]) => (asPg ? run(asPg[0], [...asPg[1], cmd, ...args]) : run(cmd, args));
  await exec(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=16MB -c max_connections=40`;
  let running = false;
  const pg: PrivatePg = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      await exec(join(bin, 'pg_ctl'), ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', 'start']);
      running = true;
    },
    async stop() {
      if (!running) return;
      await exec(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
      running = false;
    },
    async remove() {
      await pg.stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  await pg.start();
  return pg;
}
