import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import type { Config } from '../config.js';
import type { Store } from '../store/types.js';
import { renderChartPng } from '../summary/chart.js';
import { buildReport, type SummaryReport } from '../summary/report.js';
import { dueWindow, summaryWindow } from '../summary/time.js';
import { OWNER } from './files.js';
import { routeSchema } from './schema.js';
import { parse } from './validate.js';

export interface SummaryRouteDeps {
  readonly config: Config;
  readonly store: Store;
}

const Params = z.object({ owner: z.union([z.literal('*'), z.literal('all'), OWNER]) });
const DATE = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'date must be YYYY-MM-DD')
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'date must be a real calendar date');
const Query = z.object({ date: DATE.optional() });
/** The chart's query as documented: a message's link carries `exp` and `sig` (src/links.ts), checked by the scope's guard. */
const ChartQuery = Query.extend({ exp: z.string().optional(), sig: z.string().optional() });

/**
 * The numbers of a daily summary, computed the way the `daily-summary` job computes them: the
 * 24 hours before SUMMARY_LOCAL_TIME on `date` in the owner's timezone (SUMMARY_TIMEZONE for
 * `*`/`all`). Without `date`, the latest summary that is due now.
 */
async function reportFor(deps: SummaryRouteDeps, ownerParam: string, date: string | undefined): Promise<SummaryReport> {
  const { config, store } = deps;
  const owner = ownerParam === '*' || ownerParam === 'all' ? null : ownerParam;
  const timeZone = owner === null ? config.summaryTimeZone : ((await store.owners.get(owner))?.timezone ?? 'UTC');
  const window = date === undefined ? dueWindow(new Date(), config.summaryLocalTime, timeZone) : summaryWindow(date, config.summaryLocalTime, timeZone);
  return buildReport(store, owner, window);
}

/**
 * `GET /summaries/:owner?date=YYYY-MM-DD` and `GET /summaries/:owner/chart.png?date=` (inside
 * the token-protected /api/v1 scope). The chart is what a summary message shows: its link is
 * signed (src/links.ts), so LINE, which fetches a message's image itself, needs no token.
 */
export function summaryRoutes(app: FastifyInstance, deps: SummaryRouteDeps): void {
  app.get(
    '/summaries/:owner',
    { schema: routeSchema({ summary: "An owner's (or `all`) daily summary", tags: ['summaries'], params: Params, querystring: Query }) },
    async (request) => {
      const { owner } = parse(Params, request.params);
      const { date } = parse(Query, request.query);
      return reportFor(deps, owner, date);
    },
  );
  app.get(
    '/summaries/:owner/chart.png',
    {
      schema: routeSchema({
        summary: 'The summary chart (a signed link stands in for the token)',
        tags: ['summaries'],
        params: Params,
        querystring: ChartQuery,
        response: { 200: { description: 'PNG', contentType: 'image/png' } },
      }),
    },
    async (request, reply) => {
      const { owner } = parse(Params, request.params);
      const { date } = parse(Query, request.query);
      const png = await renderChartPng(await reportFor(deps, owner, date));
      return reply.type('image/png').header('Cache-Control', 'private, max-age=300').send(png);
    },
  );
}
