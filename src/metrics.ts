import type { FastifyInstance } from 'fastify';
import { Gauge, Registry } from 'prom-client';

import { requireToken } from './http/auth.js';

/** The numbers of the stats line, as they stand now. */
export interface StatsSnapshot {
  /** Seconds since the stats began (the worker started). */
  readonly uptimeSeconds: number;
  /** Job runs finished in this process (success or failure). */
  readonly processed: number;
  readonly succeeded: number;
  /** Failed attempts (a job retried twice and then done counts 2 here). */
  readonly failed: number;
  /** succeeded / processed, percent; null before the first run. */
  readonly successPercent: number | null;
  /** Runs under way now, and the most this process may run at once. */
  readonly active: number;
  readonly concurrency: number;
  /** Most runs at once since start. */
  readonly peak: number;
  /** Mean wall time of a finished run, ms; null before the first. */
  readonly avgStepMs: number | null;
  /** Jobs due and waiting in the database (Agenda's queue size); null if it could not be read. */
  readonly queueDepth: number | null;
}

const GAUGES = {
  uptimeSeconds: ['nightshift_uptime_seconds', 'Seconds since this worker started'],
  processed: ['nightshift_jobs_processed', 'Job runs finished in this process'],
  succeeded: ['nightshift_jobs_succeeded', 'Job runs that succeeded in this process'],
  failed: ['nightshift_jobs_failed', 'Job attempts that failed in this process'],
  successPercent: ['nightshift_jobs_success_percent', 'Succeeded runs, percent of finished runs'],
  active: ['nightshift_jobs_active', 'Job runs under way now'],
  concurrency: ['nightshift_jobs_concurrency', 'Most job runs this process may run at once'],
  peak: ['nightshift_jobs_active_peak', 'Most job runs at once since start'],
  avgStepMs: ['nightshift_job_duration_avg_ms', 'Mean wall time of a finished job run, ms'],
  queueDepth: ['nightshift_queue_depth', 'Jobs due and waiting in the database'],
} as const satisfies Record<keyof StatsSnapshot, readonly [string, string]>;

/**
 * A registry of its own (not prom-client's global one), so two services in one process (tests)
 * do not collide. `update` sets every gauge from a snapshot; a null leaves the gauge at NaN.
 */
export function createMetrics(): { registry: Registry; update(s: StatsSnapshot): void } {
  const registry = new Registry();
  const gauges = Object.fromEntries(
    Object.entries(GAUGES).map(([key, [name, help]]) => [key, new Gauge({ name, help, registers: [registry] })]),
  ) as Record<keyof StatsSnapshot, Gauge>;
  return {
    registry,
    update(s) {
      for (const key of Object.keys(GAUGES) as Array<keyof StatsSnapshot>) gauges[key].set(s[key] ?? Number.NaN);
    },
  };
}

/** `GET /metrics` in Prometheus text format; behind API_TOKEN (a Bearer token) when one is set. */
export function metricsRoute(app: FastifyInstance, registry: Registry, apiToken: string | undefined): void {
  const guard = apiToken ? requireToken(apiToken, { allowBasic: false, realm: 'nightshift metrics' }) : undefined;
  app.get('/metrics', { ...(guard ? { onRequest: guard } : {}) }, async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
