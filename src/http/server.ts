import type { IncomingMessage } from 'node:http';

import multipart from '@fastify/multipart';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, LogController, type RouteOptions } from 'fastify';

import type { Config } from '../config.js';
import { configIssue } from '../config/section.js';
import { mountConsole } from '../console/index.js';
import { ErrorCodes, NightshiftError } from '../errors.js';
import { classifyFault, faultError, STORE_RETRY_AFTER_SECONDS } from '../faults.js';
import type { Logger } from '../logger.js';
import { type Metrics, metricsRoute } from '../metrics.js';
import type { NotifierRoutes } from '../notify/notifier.js';
import { requireTokenOrLink } from './auth.js';
import { mountDashboard } from './dash.js';
import type { HttpDeps } from './deps.js';
import { fileRoutes } from './files.js';
import { bodyIdleTimeout, sameMachineGuard } from './guards.js';
import { healthRoutes } from './health.js';
import { notificationRoutes } from './notifications.js';
import { mountDocs, registerOpenApi } from './openapi.js';
import { opsRoutes } from './ops.js';
import { ownerRoutes } from './owners.js';
import { scheduleRoutes } from './schedules.js';
import { summaryRoutes } from './summaries.js';

export type { HttpDeps } from './deps.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** Refuse to expose an unauthenticated API beyond this machine. */
export function checkBindSafety(config: Config, log: Logger): void {
  if (config.apiToken) return;
  if (!LOOPBACK.test(config.host)) {
    throw configIssue('API_TOKEN', `required when HOST is not loopback (HOST=${config.host}); set API_TOKEN or bind HOST=127.0.0.1`);
  }
  log.warn('API_TOKEN is not set: the API and dashboard are open to anyone on this machine (bound to loopback only)');
}

/** Each notifier's own routes (LINE's webhook and link codes), in a scope of their own. */
async function notifierRoutes(app: FastifyInstance, deps: HttpDeps, where: 'api' | 'public'): Promise<void> {
  for (const d of deps.notifiers) {
    const routes: NotifierRoutes | undefined = d.routes?.[where];
    if (!routes) continue;
    const routeDeps = { store: deps.store, notifier: deps.notify.notifiers.get(d.name), log: deps.log.child({ notifier: d.name }) };
    await app.register(async (scope) => routes(scope, routeDeps));
  }
}

/** A route as registered: method, full path, and whether it keeps itself out of the OpenAPI document. */
export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
  readonly hidden: boolean;
}
const registered = new WeakMap<FastifyInstance, RouteOptions[]>();

/** Every route buildHttp registered (collected by a root onRoute hook), for the OpenAPI check. */
export function registeredRoutes(app: FastifyInstance): RegisteredRoute[] {
  // Read now, not when collected: a scope's own onRoute hook (hideFromDocs) runs after the root's.
  return (registered.get(app) ?? []).flatMap((r) => [r.method].flat().map((method) => ({ method, url: r.url, hidden: r.schema?.hide === true })));
}

export async function buildHttp(deps: HttpDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    // pino's Logger and fastify's FastifyBaseLogger differ only in generics.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tsc needs it: pino's Logger and FastifyBaseLogger differ in generics
    loggerInstance: deps.log.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    ...httpLimits(config),
  });
  const routes: RouteOptions[] = [];
  registered.set(app, routes);
  app.addHook('onRoute', (r) => void routes.push(r));
  // Root level, before every scope: the API, the console, Agendash and the webhooks all inherit them.
  if (!config.apiToken) app.addHook('onRequest', sameMachineGuard());
  const idle = bodyIdleTimeout(config.httpIdleTimeoutMs);
  app.addHook('onRequest', idle.onRequest);
  app.addHook('preHandler', idle.preHandler);
  app.setErrorHandler(async (err: FastifyError | NightshiftError, request, reply) => {
    // An upload refused mid-body leaves the rest unread on the socket. A small rest is read and
    // dropped first, so the client (still writing) gets the answer rather than a broken pipe;
    // a large or endless one is not read: the connection closes, or the next request on it
    // would wait behind bytes nobody reads.
    if (!request.raw.complete) await drainSmallBody(request.raw, Number(request.headers['content-length']));
    if (!request.raw.complete) void reply.header('Connection', 'close');
    // A client's mistake answers as it is; a full disk or an unreachable store is a fault of a
    // dependency (507 / 503 + Retry-After, logged once per outage by the monitor), not a 500.
    if (!(err instanceof NightshiftError && err.status < 500)) {
      const fault = deps.faults ? deps.faults.report(err, 'http') : classifyFault(err);
      if (fault && (fault.kind === 'disk-full' || !(err instanceof NightshiftError))) {
        const mapped = faultError(fault, err);
        if (fault.kind === 'store-down') void reply.header('Retry-After', String(STORE_RETRY_AFTER_SECONDS));
        return reply.code(mapped.status).send({ error: { code: mapped.code, message: mapped.message } });
      }
    }
    if (err instanceof NightshiftError) {
      if (err.code === ErrorCodes.STORE_UNAVAILABLE) void reply.header('Retry-After', String(STORE_RETRY_AFTER_SECONDS));
      return reply.code(err.status).send({ error: { code: err.code, message: err.message } });
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err }, 'request failed');
    const code = status === 413 ? ErrorCodes.UPLOAD_TOO_LARGE : status >= 500 ? ErrorCodes.INTERNAL : ErrorCodes.BAD_REQUEST;
    return reply.code(status).send({ error: { code, message: status >= 500 ? 'internal error' : err.message } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: { code: ErrorCodes.NOT_FOUND, message: `no route ${request.method} ${request.url.split('?')[0]}` } }),
  );

  await registerOpenApi(app, { token: config.apiToken !== undefined });
  // The upload limits, in one place: one file of at most MAX_UPLOAD_BYTES and a few fields.
  await app.register(multipart, { limits: { fileSize: config.maxUploadBytes, files: config.maxUploadFiles, fields: 10, headerPairs: 100 } });
  healthRoutes(app, { ...deps, minFreeBytes: config.minFreeBytes });
  await app.register(
    async (api) => {
      // The token, or a signed link for the GET routes messages link to (thumbnail, original, chart).
      api.addHook('onRequest', requireTokenOrLink(config.apiToken, deps.links, { realm: 'nightshift api' }));
      fileRoutes(api, deps);
      ownerRoutes(api, deps);
      notificationRoutes(api, { ...deps, channels: deps.notifiers.map((d) => d.name) });
      await notifierRoutes(api, deps, 'api');
      scheduleRoutes(api, deps);
      summaryRoutes(api, deps);
      opsRoutes(api, deps);
    },
    { prefix: '/api/v1' },
  );
  if (deps.metrics) metricsRoute(app, deps.metrics.registry, { metricsToken: config.metricsToken, apiToken: config.apiToken });
  await notifierRoutes(app, deps, 'public');
  await mountDashboard(app, { agenda: deps.agenda, ops: deps.ops, store: deps.store, apiToken: config.apiToken });
  await mountConsole(app, deps);
  await mountDocs(app);
  return app;
}

/**
 * Socket limits, so a slow or hostile client is dropped instead of holding a socket, a body
 * stream and a partial upload: headers must arrive within HTTP_IDLE_TIMEOUT_MS, the whole
 * request within HTTP_REQUEST_TIMEOUT_MS (checked every second, not node's default 30 s), and
 * an idle keep-alive socket closes after 5 s (fastify's default 72 s held a stop that long).
 */
export function httpLimits(config: Pick<Config, 'httpIdleTimeoutMs' | 'httpRequestTimeoutMs'>) {
  return {
    requestTimeout: config.httpRequestTimeoutMs,
    keepAliveTimeout: 5_000,
    // On close: idle keep-alive sockets are closed at once (the service closes the rest after a grace).
    forceCloseConnections: 'idle' as const,
    http: {
      headersTimeout: Math.min(config.httpIdleTimeoutMs, config.httpRequestTimeoutMs),
      connectionsCheckingInterval: 1_000,
      maxHeaderSize: 16 * 1024,
    },
  };
}

/** How long a stop lets requests under way finish before their sockets are closed, ms. */
export const HTTP_CLOSE_GRACE_MS = 3_000;

/**
 * Stop listening and close the server: idle keep-alive sockets at once (forceCloseConnections),
 * requests under way get HTTP_CLOSE_GRACE_MS, then every socket left is closed — a client that
 * holds a half-sent upload open must not hold the stop.
 */
export async function closeHttp(app: FastifyInstance, graceMs = HTTP_CLOSE_GRACE_MS): Promise<void> {
  const timer = setTimeout(() => app.server.closeAllConnections(), graceMs);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
  }
}

/** The largest unread request body an error answer waits for (read and dropped), and for how long. */
const DRAIN_MAX_BYTES = 1024 * 1024;
const DRAIN_MAX_MS = 2_000;

function drainSmallBody(raw: IncomingMessage, contentLength: number): Promise<void> {
  if (!Number.isFinite(contentLength) || contentLength > DRAIN_MAX_BYTES || raw.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      raw.off('end', done).off('close', done).off('error', done);
      resolve();
    };
    const timer = setTimeout(done, DRAIN_MAX_MS);
    raw.on('end', done).on('close', done).on('error', done);
    raw.resume();
  });
}

/**
 * A worker-only process's small server on METRICS_PORT: `/metrics` and `/healthz`, nothing
 * else. Open only on loopback unless METRICS_TOKEN (or API_TOKEN) guards it.
 */
export async function buildMetricsHttp(deps: { config: Config; log: Logger; metrics: Metrics }): Promise<FastifyInstance> {
  const { config } = deps;
  if (!config.metricsToken && !config.apiToken && !LOOPBACK.test(config.host)) {
    throw configIssue('METRICS_TOKEN', `required with METRICS_PORT when HOST is not loopback (HOST=${config.host}); set METRICS_TOKEN or bind HOST=127.0.0.1`);
  }
  const app = Fastify({
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- as above
    loggerInstance: deps.log.child({ component: 'metrics-http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    ...httpLimits(config),
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  metricsRoute(app, deps.metrics.registry, { metricsToken: config.metricsToken, apiToken: config.apiToken });
  return app;
}
