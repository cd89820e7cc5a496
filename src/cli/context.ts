import { hostname, userInfo } from 'node:os';

import { createBlobStore } from '../blobs/index.js';
import type { BlobStore } from '../blobs/types.js';
import type { Config } from '../config.js';
import { createEngineBackend } from '../engine/backends.js';
import { createEngine, type Engine, type RegisteredJob } from '../engine/engine.js';
import { ErrorCodes, NightshiftError, toError } from '../errors.js';
import { signerFor } from '../links.js';
import { createLogger, type Logger } from '../logger.js';
import { scheduleDelivery } from '../notify/delivery.js';
import { createHub, type NotifyHub } from '../notify/hub.js';
import { messageLinksFor } from '../notify/links.js';
import { createOperations, type Operations, pipelineJobNames } from '../ops/index.js';
import { pausedJobsCache } from '../ops/pauses.js';
import { isStep } from '../pipeline/step.js';
import { loadConfig, registry } from '../registry.js';
import { engineDatabase } from '../service.js';
import { createStore } from '../store/index.js';
import type { Store } from '../store/types.js';

/** Exit codes scripts can rely on (README: "CLI"). */
export const Exit = { OK: 0, FAILED: 1, USAGE: 2, PROBLEMS: 3 } as const;

/** A usage or config problem: exit 2. */
export class UsageError extends Error {}

export interface CliContext {
  readonly config: Config;
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly engine: Engine;
  readonly notify: NotifyHub;
  readonly ops: Operations;
  readonly log: Logger;
  /** Who is acting, recorded with a pause: `cli:<user>@<host>`. */
  readonly actor: string;
}

/** The config of this environment (DATABASE_URL, DATA_DIR…), as the service reads it; exit 2 if invalid. */
export function readConfig(): Config {
  try {
    return loadConfig(process.env, 'api');
  } catch (err) {
    throw new UsageError(toError(err).message);
  }
}

/**
 * Open the same store, engine and notifiers as the service, against the same DATABASE_URL /
 * DATA_DIR, without the worker loop or the HTTP server: a CLI verb works while the service runs,
 * the way `celery inspect` reaches workers through the broker.
 */
export async function openContext(): Promise<CliContext & { close(): Promise<void> }> {
  const config = readConfig();
  const log = createLogger('silent');
  const steps = registry.jobs.filter(isStep).map((d) => d.name);
  const store = await createStore(config.database, { log, stepOrder: steps });
  const closers: Array<() => Promise<void>> = [() => store.close()];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    const blobs = await createBlobStore(config.storage, { log });
    closers.push(() => blobs.close());
    const notifiers = new Map(config.notifiers.map((n) => [n.name, n.create({ log })] as const));
    // The hub schedules deliveries through the engine, made next.
    const engineRef: { current?: Engine } = {};
    const notify = createHub({
      config: config.notify,
      store,
      notifiers,
      renderContext: { links: messageLinksFor(config, signerFor(config), blobs) },
      schedule: (n, at) => scheduleDelivery(engineRef.current!.enqueue, n, at),
      log,
    });
    closers.push(() => notify.close());
    const jobs: RegisteredJob[] = registry.jobs.map((definition) => ({ definition, options: config.jobs[definition.name] }));
    const name = `${hostname()}:${process.pid}:cli`;
    const engine = await createEngine({
      backend: await createEngineBackend(engineDatabase(config.database), { redisUrl: config.redisUrl, log }),
      jobs,
      serve: new Set(),
      services: { config, store, blobs, notify, steps },
      log,
      pollIntervalMs: config.pollIntervalMs,
      name,
      pausedJobs: pausedJobsCache(store.controls, pipelineJobNames(steps)).get,
    });
    engineRef.current = engine;
    closers.push(() => engine.stop(0));
    // Wake-ups for what this process enqueues (MongoDB over Redis; the others wake from the database).
    await engine.startPublishing();
    const ops = createOperations({ config, store, engine, notify, steps, log });
    return { config, store, blobs, engine, notify, ops, log, actor: `cli:${safeUser()}@${hostname()}`, close };
  } catch (err) {
    await close();
    throw err;
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/**
 * Run a verb with an open context; map failures to exit codes: a usage, config or not-found
 * problem exits 2, anything else 1, and the message goes to stderr.
 */
export async function withContext(fn: (ctx: CliContext) => Promise<number | void>): Promise<never> {
  let code: number;
  let ctx: Awaited<ReturnType<typeof openContext>> | undefined;
  try {
    ctx = await openContext();
    code = (await fn(ctx)) ?? Exit.OK;
  } catch (err) {
    code = fail(err);
  } finally {
    await ctx?.close();
  }
  process.exit(code);
}

/** Print a failure and return its exit code. */
export function fail(err: unknown): number {
  const e = toError(err);
  process.stderr.write(`nightshift: ${e.message}\n`);
  if (e instanceof UsageError) return Exit.USAGE;
  if (e instanceof NightshiftError && (e.code === ErrorCodes.CONFIG_INVALID || e.code === ErrorCodes.BAD_REQUEST || e.code === ErrorCodes.NOT_FOUND))
    return Exit.USAGE;
  return Exit.FAILED;
}
