import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

import type { Agenda } from 'agenda';
import type { AgendashController as Controller, createFastifyPlugin as CreatePlugin } from 'agendash';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { Operations } from '../ops/index.js';
import type { StepName, Store } from '../store/types.js';
import { requireToken } from './auth.js';
import { hideFromDocs } from './openapi.js';

/**
 * Agendash's package index also loads its Express, Koa and Hapi middlewares, and with them
 * Express, which nightshift never runs (17 MiB of RSS when imported alone).
 * Its "exports" name only the index, so the two modules used are loaded from their files.
 */
async function loadAgendash(): Promise<{ AgendashController: typeof Controller; createFastifyPlugin: typeof CreatePlugin }> {
  const dist = dirname(createRequire(import.meta.url).resolve('agendash'));
  const load = (file: string): Promise<unknown> => import(pathToFileURL(join(dist, file)).href);
  const [controller, plugin] = await Promise.all([load('AgendashController.js'), load('middlewares/fastify.js')]);
  return {
    AgendashController: (controller as { AgendashController: typeof Controller }).AgendashController,
    createFastifyPlugin: (plugin as { createFastifyPlugin: typeof CreatePlugin }).createFastifyPlugin,
  };
}

const RETRY_ROUTES: Readonly<Record<string, 'retryJobs' | 'requeueJobs'>> = { '/dash/api/jobs/retry': 'retryJobs', '/dash/api/jobs/requeue': 'requeueJobs' };

/**
 * Agendash's retry and requeue of file work (process-file or a step) would re-run a job whose
 * file has settled, and the step would find the file final and do nothing. So:
 * - a failed step of a failed file is reopened (the file back to `processing`, that step
 *   `pending`) and Agendash retries its job: the step runs again for real and the file settles again;
 * - other file work on a settled file reprocesses the file (every step runs again);
 * - a file being processed right now is refused with a message.
 * Jobs that are not file work go to Agendash as they are.
 */
function fileWorkRetry(deps: DashDeps, AgendashController: typeof Controller) {
  const { agenda, ops, store } = deps;
  const controller = new AgendashController(agenda);
  const steps = new Set<string>(ops.steps);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const verb = request.method === 'POST' ? RETRY_ROUTES[request.url.split('?')[0] ?? ''] : undefined;
    if (!verb) return undefined;
    const body = request.body as { jobIds?: unknown } | undefined;
    const ids = Array.isArray(body?.jobIds) ? body.jobIds.filter((x): x is string => typeof x === 'string') : [];
    if (ids.length === 0) return undefined;
    const { jobs } = await agenda.queryJobs({ ids });
    const fileIdOf = (data: unknown) => (typeof data === 'object' && data !== null ? (data as { fileId?: unknown }).fileId : undefined);
    const fileWork = jobs.filter((j) => (j.name === 'process-file' || steps.has(j.name)) && typeof fileIdOf(j.data) === 'string');
    if (fileWork.length === 0) return undefined;

    const workIds = new Set(fileWork.map((j) => String(j._id)));
    const agendash = ids.filter((id) => !workIds.has(id));
    let reopened = 0;
    const toReprocess = new Set<string>();
    for (const j of fileWork) {
      const fileId = fileIdOf(j.data) as string;
      if (steps.has(j.name) && (await store.reopenStep(fileId, j.name as StepName))) {
        agendash.push(String(j._id));
        reopened++;
      } else toReprocess.add(fileId);
    }
    const reprocessed = await ops.reprocessIds([...toReprocess]);
    const busy = toReprocess.size - reprocessed;
    const done = agendash.length > 0 ? await controller[verb](agendash) : {};
    const agendashCount = Object.values(done).find((v) => typeof v === 'number') ?? 0;
    const parts = [
      reopened > 0 ? `${reopened} failed step${reopened === 1 ? '' : 's'} run again (the file is processing until it settles)` : '',
      reprocessed > 0 ? `${reprocessed} file${reprocessed === 1 ? '' : 's'} reprocessed from the start` : '',
      busy > 0 ? `${busy} refused: the file is being processed right now, reprocess it when it has finished` : '',
    ].filter(Boolean);
    const message = parts.join('; ');
    request.log.info({ jobs: fileWork.length, reopened, reprocessed, busy }, 'agendash retry of file work');
    const count = agendashCount + reprocessed;
    const key = verb === 'retryJobs' ? 'retriedCount' : 'requeuedCount';
    if (count === 0) return reply.code(409).send({ error: message || 'nothing to retry', [key]: 0 });
    return reply.send({ [key]: count, message });
  };
}

/** What the Agendash mount needs: the engine's Agenda, the operations (reprocess) and the store (reopen a step). */
export interface DashDeps {
  readonly agenda: Agenda;
  readonly ops: Operations;
  readonly store: Store;
  readonly apiToken: string | undefined;
}

/**
 * Agendash at /dash/ (`/dash` redirects: its assets are relative), behind the API token when one
 * is set (basic auth works for a browser).
 */
export async function mountDashboard(app: FastifyInstance, deps: DashDeps): Promise<void> {
  const { agenda, apiToken } = deps;
  const { AgendashController, createFastifyPlugin } = await loadAgendash();
  await app.register(
    async (scope) => {
      // Browser pages: out of the OpenAPI document.
      scope.addHook('onRoute', hideFromDocs);
      scope.addHook('onRequest', async (request, reply) => {
        const [path, query] = request.url.split('?', 2);
        if (path === '/dash') return reply.code(301).redirect(`/dash/${query ? `?${query}` : ''}`);
        return undefined;
      });
      if (apiToken) scope.addHook('onRequest', requireToken(apiToken, { allowBasic: true, realm: 'nightshift dashboard' }));
      scope.addHook('preHandler', fileWorkRetry(deps, AgendashController));
      await scope.register(createFastifyPlugin(agenda));
    },
    { prefix: '/dash' },
  );
}
