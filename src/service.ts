import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';

import type { FastifyInstance } from 'fastify';

import { jobDefinitions } from '../jobs/index.js';
import { createBlobStore } from './blobs/index.js';
import type { BlobStore } from './blobs/types.js';
import type { Config } from './config.js';
import { createEngineBackend } from './engine/backends.js';
import { createEngine, type Engine } from './engine/engine.js';
import { toError } from './errors.js';
import { buildHttp, checkBindSafety } from './http/server.js';
import type { Logger } from './logger.js';
import { createStore } from './store/index.js';
import type { Store } from './store/types.js';

export interface Service {
  readonly config: Config;
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly engine: Engine;
  /** Present for the all and api roles. */
  readonly http: FastifyInstance | undefined;
  /** The address the API listens on, e.g. http://127.0.0.1:3000. */
  readonly url: string | undefined;
  /** Stop taking work, drain, close everything in reverse order. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Compose the service for its role: store and blobs always, the engine always (the api role
 * enqueues through it and serves the dashboard from it), the worker loop and the HTTP server
 * by role. Anything opened is closed again if a later step fails.
 */
export async function startService(config: Config, log: Logger): Promise<Service> {
  const closers: Array<{ name: string; close: () => Promise<void> }> = [];
  const closeAll = async () => {
    for (const { name, close } of closers.reverse()) {
      try {
        await close();
      } catch (err) {
        log.error({ err: toError(err), component: name }, 'error while closing');
      }
    }
    closers.length = 0;
  };

  try {
    const serveApi = config.role !== 'worker';
    if (serveApi) checkBindSafety(config, log);
    await mkdir(config.dataDir, { recursive: true });

    const store = await createStore(config.database, { log });
    closers.push({ name: 'store', close: () => store.close() });
    await store.migrate();

    const blobs = await createBlobStore(config.storage, { log });
    closers.push({ name: 'blobs', close: () => blobs.close() });

    const engine = await createEngine({
      backend: await createEngineBackend(config.database, { redisUrl: config.redisUrl, log }),
      definitions: jobDefinitions,
      services: { config, store, blobs },
      log,
      pollIntervalMs: config.pollIntervalMs,
      name: `${hostname()}:${process.pid}:${config.role}`,
    });
    closers.push({ name: 'engine', close: () => engine.stop(config.shutdownTimeoutMs) });

    let http: FastifyInstance | undefined;
    let url: string | undefined;
    if (serveApi) {
      http = await buildHttp({ config, log, store, blobs, agenda: engine.agenda, enqueue: engine.enqueue });
      const server = http;
      // Closed first of all on stop: no new uploads while the worker drains.
      closers.push({ name: 'http', close: () => server.close() });
      url = await http.listen({ port: config.port, host: config.host });
      await engine.startPublishing();
    }
    if (config.role !== 'api') await engine.start();

    log.info({ role: config.role, url, database: config.database.kind, storage: config.storage.kind }, 'nightshift started');
    let stopping: Promise<void> | undefined;
    return {
      config,
      store,
      blobs,
      engine,
      http,
      url,
      stop: () => (stopping ??= closeAll().then(() => log.info('nightshift stopped'))),
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
