import type { Agenda } from 'agenda';
import { AgendashController, createFastifyPlugin } from 'agendash';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { Operations } from '../ops/index.js';
import { requireToken } from './auth.js';

const RETRY_ROUTES: Readonly<Record<string, 'retryJobs' | 'requeueJobs'>> = { '/dash/api/jobs/retry': 'retryJobs', '/dash/api/jobs/requeue': 'requeueJobs' };

/**
 * Agendash's retry and requeue of file work (process-file or a step) would re-run a job whose
 * file has settled, and the step would find the file final and do nothing. For those jobs the
 * file is reprocessed instead (back to processing, every step runs again, it settles again); a
 * file being processed right now is refused with a message. Other jobs go to Agendash as they are.
 */
function fileWorkRetry(agenda: Agenda, ops: Operations) {
  const controller = new AgendashController(agenda);
  const fileJobs = new Set<string>(['process-file', ...ops.steps]);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const verb = request.method === 'POST' ? RETRY_ROUTES[request.url.split('?')[0] ?? ''] : undefined;
    if (!verb) return undefined;
    const body = request.body as { jobIds?: unknown } | undefined;
    const ids = Array.isArray(body?.jobIds) ? body.jobIds.filter((x): x is string => typeof x === 'string') : [];
    if (ids.length === 0) return undefined;
    const { jobs } = await agenda.queryJobs({ ids });
    const fileIdOf = (data: unknown) => (typeof data === 'object' && data !== null ? (data as { fileId?: unknown }).fileId : undefined);
    const fileWork = jobs.filter((j) => fileJobs.has(j.name) && typeof fileIdOf(j.data) === 'string');
    if (fileWork.length === 0) return undefined;
    const workIds = new Set(fileWork.map((j) => String(j._id)));
    const fileIds = [...new Set(fileWork.map((j) => fileIdOf(j.data) as string))];
    const reprocessed = await ops.reprocessIds(fileIds);
    const rest = ids.filter((id) => !workIds.has(id));
    const others = rest.length > 0 ? await controller[verb](rest) : {};
    const otherCount = Object.values(others).find((v) => typeof v === 'number') ?? 0;
    const busy = fileIds.length - reprocessed;
    const message =
      `${reprocessed} file${reprocessed === 1 ? '' : 's'} reprocessed from the start (a failed step's file runs every step again)` +
      (busy > 0 ? `; ${busy} refused: the file is being processed right now, reprocess it when it has finished` : '');
    request.log.info({ jobs: fileWork.length, files: fileIds.length, reprocessed, busy }, 'agendash retry of file work: files reprocessed');
    const count = reprocessed + otherCount;
    const key = verb === 'retryJobs' ? 'retriedCount' : 'requeuedCount';
    if (count === 0) return reply.code(409).send({ error: message, [key]: 0 });
    return reply.send({ [key]: count, message });
  };
}

/**
 * Agendash at /dash/ (`/dash` redirects: its assets are relative), behind the API token when one
 * is set (basic auth works for a browser).
 */
export async function mountDashboard(app: FastifyInstance, agenda: Agenda, ops: Operations, apiToken: string | undefined): Promise<void> {
  await app.register(
    async (scope) => {
      scope.addHook('onRequest', async (request, reply) => {
        const [path, query] = request.url.split('?', 2);
        if (path === '/dash') return reply.code(301).redirect(`/dash/${query ? `?${query}` : ''}`);
        return undefined;
      });
      if (apiToken) scope.addHook('onRequest', requireToken(apiToken, { allowBasic: true, realm: 'nightshift dashboard' }));
      scope.addHook('preHandler', fileWorkRetry(agenda, ops));
      await scope.register(createFastifyPlugin(agenda));
    },
    { prefix: '/dash' },
  );
}
