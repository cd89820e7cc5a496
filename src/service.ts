import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';

import type { FastifyInstance } from 'fastify';

import { createBlobStore } from './blobs/index.js';
import type { BlobStore } from './blobs/types.js';
import type { Config } from './config.js';
import { createEngineBackend } from './engine/backends.js';
import { createEngine, type Engine, type RegisteredJob } from './engine/engine.js';
import type { JobName } from './engine/job.js';
import { isUserError, toError } from './errors.js';
import { ConnectError, createFaultMonitor, isConnectionFailure, shortReason, urlTarget } from './faults.js';
import { buildHttp, buildMetricsHttp, checkBindSafety, closeHttp } from './http/server.js';
import { signerFor } from './links.js';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics, type NotificationOutcome } from './metrics.js';
import { isDeliveryJob, scheduleDelivery } from './notify/delivery.js';
import { createHub } from './notify/hub.js';
import { messageLinksFor } from './notify/links.js';
import { startOutboxSweeper } from './notify/sweeper.js';
import { observeEngine } from './observe.js';
import { type Heartbeat, startHeartbeat } from './ops/heartbeat.js';
import { createOperations, type Operations, pipelineJobNames } from './ops/index.js';
import { pausedJobsCache } from './ops/pauses.js';
import { isStep } from './pipeline/step.js';
import { registry } from './registry.js';
import { recordRuns } from './schedules/runs.js';
import { syncSchedules } from './schedules/sync.js';
import { createStats } from './stats.js';
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

export interface Service {
  readonly config: Config;
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly engine: Engine;
  /** The operator's controls and bulk work (what the API's ops routes and the CLI call). */
  readonly ops: Operations;
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

    // Every job of the registry with the options this deployment gives it; a worker serves
    // all of them or those named by --jobs / WORKER_JOBS.
    const jobs: RegisteredJob[] = registry.jobs.map((definition) => ({ definition, options: config.jobs[definition.name] }));
    const serve = new Set<JobName>(config.role === 'api' ? [] : (config.servedJobs ?? jobs.map((j) => j.definition.name)));
    const steps = registry.jobs.filter(isStep).map((d) => d.name);

    // --- ops: a dependency that cannot be reached stops start-up naming its key (ConnectError) ---
    // The monitor probes the store once it exists; the store's pool reports to it from the start.
    let storeRef: Store | undefined;
    const faults = createFaultMonitor({
      log: log.child({ component: 'faults' }),
      probe: () => (storeRef ? storeRef.ping() : Promise.reject(new Error('no store yet'))),
    });
    closers.push({ name: 'faults', close: async () => faults.stop() });
    const onConnectionError = (err: Error) => {
      if (!faults.report(err, 'store pool')) log.warn({ err }, 'postgres idle client error');
    };
    const store = await namingKey(config, 'DATABASE_URL', () => createStore(config.database, { log, stepOrder: steps, onConnectionError }));
    storeRef = store;
    closers.push({ name: 'store', close: () => store.close() });
    await namingKey(config, 'DATABASE_URL', () => store.migrate());

    const blobs = await createBlobStore(config.storage, { log });
    closers.push({ name: 'blobs', close: () => blobs.close() });
    if (config.storage.kind === 's3') await probeS3(config.storage, blobs);

    // --- ops: the metrics every role serves ---
    let agendaRef: Engine['agenda'] | undefined;
    const metrics = createMetrics({
      jobs: jobs.map((j) => j.definition.name),
      queueDepth: async () => {
        if (!agendaRef) return {};
        return Object.fromEntries((await agendaRef.getJobsOverview()).map((o) => [o.name, o.queued]));
      },
      filesByStatus: () => store.reports.countFilesByStatus(),
      workersByState: async () => {
        const counts = { alive: 0, stale: 0 };
        for (const w of await store.workers.list(new Date())) counts[w.state]++;
        return counts;
      },
      onReadError: (err, gauge) => {
        if (!faults.report(err, 'metrics')) log.debug({ err: toError(err), gauge }, 'metrics: store read failed');
      },
    });
    // --- end ops ---

    // ops: each notifier's answers are counted (nightshift_notifications_total{channel,outcome}).
    const notifiers = new Map(config.notifiers.map((n) => [n.name, countSends(n.name, n.create({ log }), metrics)] as const));
    // The hub schedules deliveries through the engine, and the engine's jobs emit through the hub.
    let engineRef: Engine | undefined;
    // One signer for the links messages carry and the routes that check them.
    const links = signerFor(config);
    const notify = createHub({
      config: config.notify,
      store,
      notifiers,
      renderContext: { links: messageLinksFor(config, links, blobs) },
      schedule: (notification, at) => {
        if (!engineRef) throw new Error('engine not started');
        return scheduleDelivery(engineRef.enqueue, notification, at);
      },
      log: log.child({ component: 'notify' }),
    });
    closers.push({ name: 'notifiers', close: () => notify.close() });

    const workerName = `${hostname()}:${process.pid}:${config.role}`;
    // Periodic jobs claim their occurrence in store.runs and record their counts there.
    const registered = jobs.map(({ definition, options }) => ({
      options,
      definition: definition.schedule
        ? recordRuns(definition, { schedule: config.schedules.find((s) => s.job === definition.name), worker: workerName })
        : definition,
    }));
    // Lifecycle hooks of the served jobs (pools, workers), closed after the engine drained.
    for (const { definition, options } of registered) {
      if (!serve.has(definition.name)) continue;
      if (definition.open) await definition.open({ config, options, log: log.child({ job: definition.name }) });
      if (definition.close) {
        const close = definition.close.bind(definition);
        closers.push({ name: `job:${definition.name}`, close });
      }
    }
    const services = { config, store, blobs, notify, steps };
    const paused = pausedJobsCache(store.controls, pipelineJobNames(steps));
    // Stopped after the engine drained (closers run in reverse): the row shows the drain's runs.
    let heartbeat: Heartbeat | undefined;
    closers.push({ name: 'heartbeat', close: async () => heartbeat?.stop() });
    const engine = await createEngine({
      pausedJobs: paused.get,
      backend: await namingKey(config, 'DATABASE_URL', () =>
        createEngineBackend(engineDatabase(config.database), {
          redisUrl: config.redisUrl,
          log,
          // ops: wake-up channel errors during an outage go to the fault monitor (one line per outage).
          onChannelError: (err) => {
            if (!faults.report(err, 'wake-up channel')) log.warn({ err }, 'job wake-up channel error');
          },
        }),
      ),
      jobs: registered,
      serve,
      services,
      log,
      pollIntervalMs: config.pollIntervalMs,
      name: workerName,
      async onJobFailed(def, ctx, error) {
        // A failing delivery is reported by its own dead row, not by another notification.
        if (isDeliveryJob(def.name, config.notify.channels)) return;
        // A user's bad file is the owner's file.failed, not an admin's job.failed.
        if (isUserError(error)) return;
        await notify.emit('job.failed', {
          jobName: def.name,
          jobId: ctx.jobId,
          attempts: ctx.attempt,
          error: error.message,
          fileId: (ctx.data as { fileId?: string }).fileId,
        });
      },
    });
    engineRef = engine;
    // --- ops: Agenda's own errors (its poll loop while the store is down) and job metrics ---
    agendaRef = engine.agenda;
    engine.agenda.on('error', (err: unknown) => {
      if (!faults.report(err, 'engine')) log.warn({ err: toError(err) }, 'engine error');
    });
    const stopObserving = observeEngine({
      agenda: engine.agenda,
      metrics,
      log,
      steps,
      concurrency: engine.served.reduce((n, j) => n + j.options.concurrency, 0),
    });
    closers.push({ name: 'observer', close: async () => stopObserving() });
    // --- end ops ---
    closers.push({ name: 'engine', close: () => engine.stop(config.shutdownTimeoutMs) });
    const ops = createOperations({ config, store, engine, notify, steps, log: log.child({ component: 'ops' }) });
    // In the registry before it takes work.
    heartbeat = await startHeartbeat({
      store,
      engine,
      controls: ops.controls,
      id: workerName,
      role: config.role,
      intervalMs: config.workerHeartbeatMs,
      log: log.child({ component: 'heartbeat' }),
    });

    // Listening from here, so the counts cover every run of this worker; the timer starts with the worker loop.
    const stats =
      config.role === 'api'
        ? undefined
        : createStats({
            agenda: engine.agenda,
            log: log.child({ component: 'stats' }),
            intervalSeconds: config.statsIntervalSeconds,
            concurrency: engine.served.reduce((n, j) => n + j.options.concurrency, 0),
            perJob: Object.fromEntries(engine.served.map((j) => [j.definition.name, j.options.concurrency])),
          });
    if (stats) closers.push({ name: 'stats', close: () => stats.stop() });

    let http: FastifyInstance | undefined;
    let url: string | undefined;
    if (serveApi) {
      const disks = [config.dataDir, ...(config.storage.kind === 'local' ? [config.storage.dir] : [])];
      http = await buildHttp({
        config,
        log,
        store,
        blobs,
        agenda: engine.agenda,
        enqueue: engine.enqueue,
        notify,
        ops,
        metrics,
        faults,
        disks,
        notifiers: registry.notifiers,
        links,
      });
      const server = http;
      // Closed first of all on stop: no new uploads while the worker drains.
      closers.push({ name: 'http', close: () => closeHttp(server) });
      url = await http.listen({ port: config.port, host: config.host });
      // A worker's start() connects the channel itself; connecting twice would leak a listener.
      if (config.role === 'api') await engine.startPublishing();
    }
    // --- ops: a worker-only process serves /metrics and /healthz on METRICS_PORT ---
    if (!serveApi && config.metricsPort !== undefined) {
      const server = await buildMetricsHttp({ config, log, metrics });
      closers.push({ name: 'metrics-http', close: () => closeHttp(server) });
      url = await server.listen({ port: config.metricsPort, host: config.host });
    }
    // --- end ops ---
    if (config.role !== 'api') {
      // A worker keeps the schedules of the jobs it serves.
      // Config sets the cron, the operator's stored pauses win: then every paused job's rows are disabled.
      const pauses = await ops.controls.pauses();
      await syncSchedules(
        engine.agenda,
        config.schedules.filter((sc) => serve.has(sc.job)),
        log.child({ component: 'schedules' }),
        pauses.schedules,
      );
      await ops.controls.apply(pauses);
      await engine.start();
      stats?.start();
      const sweeper = startOutboxSweeper(store, engine, log);
      closers.push({ name: 'outbox-sweeper', close: async () => sweeper.stop() });
    }

    log.info(
      { role: config.role, url, database: config.database.kind, storage: config.storage.kind, jobs: config.role === 'api' ? [] : [...serve] },
      'nightshift started',
    );
    let stopping: Promise<void> | undefined;
    return {
      config,
      store,
      blobs,
      engine,
      ops,
      http,
      url,
      stop: () => (stopping ??= closeAll().then(() => log.info('nightshift stopped'))),
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

// --- ops: start-up connection errors, S3 probe, notifier counts ---

/**
 * Run a start-up step that connects to the database (or Redis); a connection failure becomes a
 * ConnectError naming the key: `DATABASE_URL: cannot connect to nope:1 (ENOTFOUND)`.
 */
async function namingKey<T>(config: Config, key: 'DATABASE_URL', step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (config.database.kind === 'sqlite' || !isConnectionFailure(err)) throw err;
    const host = (err as { hostname?: unknown }).hostname;
    const text = `${toError(err).message} ${typeof host === 'string' ? host : ''}`;
    // With MongoDB, the engine's wake-ups may come through Redis: say which one failed.
    const redisUrl =
      config.redisUrl !== undefined && text.includes(urlTarget(config.redisUrl)) && !text.includes(urlTarget(config.database.url))
        ? config.redisUrl
        : undefined;
    const name = redisUrl !== undefined ? 'REDIS_URL' : key;
    throw new ConnectError(name, `cannot connect to ${urlTarget(redisUrl ?? config.database.url)} (${shortReason(err)})`, err);
  }
}

/** One HeadBucket at start-up, so missing credentials or a wrong bucket stop it naming the key. */
async function probeS3(storage: Extract<Config['storage'], { kind: 's3' }>, blobs: BlobStore): Promise<void> {
  try {
    await blobs.ping();
  } catch (err) {
    const chain = [err, (err as { cause?: unknown }).cause];
    const noCredentials = chain.some((e) => e instanceof Error && (e.name === 'CredentialsProviderError' || /credential/i.test(e.message)));
    const where = `s3://${storage.bucket}${storage.endpoint ? ` at ${storage.endpoint}` : ''}`;
    if (noCredentials) {
      throw new ConnectError(
        'AWS_ACCESS_KEY_ID',
        `no S3 credentials for STORAGE_URL=${where}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or an AWS profile or role)`,
        err,
      );
    }
    const status = (err as { cause?: { $metadata?: { httpStatusCode?: number } } }).cause?.$metadata?.httpStatusCode;
    const key = status === 403 ? 'AWS_ACCESS_KEY_ID' : 'STORAGE_URL';
    throw new ConnectError(key, `cannot use ${where} (${status ? `HTTP ${status}` : shortReason(err)})`, err);
  }
}

/** The notifier, with each send's outcome counted. */
function countSends<N extends { send: (...args: never[]) => Promise<{ status: string }> }>(channel: string, notifier: N, metrics: Metrics): N {
  const send = notifier.send.bind(notifier) as (...args: unknown[]) => Promise<{ status: string }>;
  const counted = async (...args: unknown[]) => {
    try {
      const result = await send(...args);
      metrics.notification(channel, result.status as NotificationOutcome);
      return result;
    } catch (err) {
      metrics.notification(channel, 'error');
      throw err;
    }
  };
  // A proxy, not a copy: notifiers may keep private fields that their own methods must reach.
  return new Proxy(notifier, {
    get(target, prop) {
      if (prop === 'send') return counted;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
