import type { FastifyInstance } from 'fastify';

import { listSchedules } from '../schedules/list.js';
import type { HttpDeps } from './deps.js';
import { routeSchema } from './schema.js';

/** GET /api/v1/schedules: each periodic job's schedule, next/last run and last counts. */
export function scheduleRoutes(api: FastifyInstance, deps: Pick<HttpDeps, 'agenda' | 'store' | 'config'>): void {
  api.get('/schedules', { schema: routeSchema({ summary: 'Periodic jobs and their last runs', tags: ['ops'] }) }, async () => ({
    items: await listSchedules(deps.agenda, deps.store.runs, deps.config.schedules),
  }));
}
