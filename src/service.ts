import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';

import type { FastifyInstance } from 'fastify';

import { deliveryJobs } from '../jobs/deliver-notification.js';
import { jobDefinitions } from '../jobs/index.js';
import { notifierDefinitions } from '../notifiers/index.js';
import { createBlobStore } from './blobs/index.js';
import type { BlobStore } from './blobs/types.js';
import { loadConfig, type Config, type Role } from './config.js';
import { createEngineBackend } from './engine/backends.js';
import { createEngine, type Engine } from './engine/engine.js';
import type { JobDefinition } from './engine/job.js';
import { toError } from './errors.js';
import { closeSharedOcrPool } from '../jobs/lib/ocr.js';
import { isDeliveryJob, scheduleDelivery } from './notify/delivery.js';
import { checkRegistry } from './notify/registry.js';
import { createHub } from './notify/hub.js';
import { startOutboxSweeper } from './notify/sweeper.js';
import { buildHttp, checkBindSafety } from './http/server.js';
import { createStats } from './stats.js';
import type { Logger } from './logger.js';
import { recordRuns } from './schedules/runs.js';
import { PERIODIC_JOBS } from './schedules/spec.js';
import { syncSchedules } from './schedules/sync.js';
import { createStore } from './store/index.js';
import type { Store } from './store/types.js';

/**
 * On SQLite, Agenda's jobs live in a file of their own beside the domain data: the engine
 * backend waits for locks synchronously, and must never wait on a store transaction that is
 * itself waiting for the event loop (one thread, two connections: a deadlock).
 */
export function engineDatabase(database: Config['database']): Config['database'] {
  if (database.kind !== 'sqlite') return database;
  return { kind: 'sqlite', path: database.path.replace(/(\.db)?$/, '-jobs.db') };
}

/** Every job this build runs: the jobs of jobs/, plus one delivery job per notifier of the registry. */
const allJobs: readonly JobDefinition[] = [...jobDefinitions, ...(deliveryJobs(notifierDefinitions) as readonly JobDefinition[])];

/** The configuration, read with this build's notifier registry (notifiers/index.ts). */
export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env, role: Role = 'all'): Config {
  checkRegistry(notifierDefinitions);
  return loadConfig(env, role, { notifiers: notifierDefinitions });
}

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
        log.debug({ component: name }, 'closing');
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

    const notifiers = new Map(config.notifiers.map((n) => [n.name, n.create({ log })] as const));
    // The hub schedules deliveries through the engine, and the engine's jobs emit through the hub.
    let engineRef: Engine | undefined;
    const notify = createHub({
      config: config.notify,
      store,
      notifiers,
      renderContext: { publicUrl: config.publicUrl },
      schedule: (notification, at) => {
        if (!engineRef) throw new Error('engine not started');
        return scheduleDelivery(engineRef.enqueue, notification, at);
      },
      log: log.child({ component: 'notify' }),
    });
    closers.push({ name: 'notifiers', close: () => notify.close() });
    closers.push({ name: 'ocr', close: () => closeSharedOcrPool() });

    const workerName = `${hostname()}:${process.pid}:${config.role}`;
    // Periodic jobs claim their occurrence in store.runs and record their counts there.
    const definitions = allJobs.map((def) =>
      (PERIODIC_JOBS as readonly string[]).includes(def.name)
        ? recordRuns(def, { schedule: config.schedules.find((s) => s.job === def.name), worker: workerName })
        : def,
    );
    const services = { config, store, blobs, notify };
    const engine = await createEngine({
      backend: await createEngineBackend(engineDatabase(config.database), { redisUrl: config.redisUrl, log }),
      definitions,
      services,
      log,
      pollIntervalMs: config.pollIntervalMs,
      name: workerName,
      async onJobFailed(def, ctx, error) {
        // A failing delivery is reported by its own dead row, not by another notification.
        if (isDeliveryJob(def.name, config.notify.channels)) return;
        await notify.emit('job.failed', { jobName: def.name, jobId: ctx.jobId, attempts: ctx.attempt, error: error.message, fileId: (ctx.data as { fileId?: string }).fileId });
      },
    });
    engineRef = engine;
    closers.push({ name: 'engine', close: () => engine.stop(config.shutdownTimeoutMs) });

    // Listening from here, so the counts cover every run of this worker; the timer starts with the worker loop.
    const stats =
      config.role === 'api'
        ? undefined
        : createStats({
            agenda: engine.agenda,
            log: log.child({ component: 'stats' }),
            intervalSeconds: config.statsIntervalSeconds,
            concurrency: allJobs.reduce((n, d) => n + d.concurrency, 0),
          });
    if (stats) closers.push({ name: 'stats', close: () => stats.stop() });

    let http: FastifyInstance | undefined;
    let url: string | undefined;
    if (serveApi) {
      http = await buildHttp({ config, log, store, blobs, agenda: engine.agenda, enqueue: engine.enqueue, notify, metrics: stats?.registry, notifiers: notifierDefinitions });
      const server = http;
      // Closed first of all on stop: no new uploads while the worker drains.
      closers.push({ name: 'http', close: () => server.close() });
      url = await http.listen({ port: config.port, host: config.host });
      // A worker's start() connects the channel itself; connecting twice would leak a listener.
      if (config.role === 'api') await engine.startPublishing();
    }
    if (config.role !== 'api') {
      await syncSchedules(engine.agenda, config.schedules, log.child({ component: 'schedules' }));
      await engine.start();
      stats?.start();
      const sweeper = startOutboxSweeper(store, engine, log);
      closers.push({ name: 'outbox-sweeper', close: async () => sweeper.stop() });
    }

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
