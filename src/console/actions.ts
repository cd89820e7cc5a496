import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

import { ErrorCodes, NightshiftError } from '../errors.js';
import { parse } from '../http/validate.js';
import type { ConsoleDeps } from './deps.js';
import { failureGroups } from './failures.js';
import { isReply, sessionOrSignIn } from './guard.js';
import { done } from './layout.js';

const Id = z.object({ id: z.string().min(1).max(64) });
const Name = z.object({ name: z.string().min(1).max(64) });
const Reason = z.object({ reason: z.string().min(1).max(4096) });
const blankIsAbsent = (v: unknown) => (v === '' ? undefined : v);
const DeadFilter = z.object({
  event: z.preprocess(blankIsAbsent, z.string().max(64).optional()),
  channel: z.preprocess(blankIsAbsent, z.string().max(64).optional()),
  owner: z.preprocess(blankIsAbsent, z.string().max(128).optional()),
});

/**
 * The console's POSTs. Each needs a session and its CSRF token, answers 303 back to the page
 * it came from with a message (so a reload does not repeat it), and shows a refusal the same way.
 */
export function actionRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const { store, ops } = deps;
  const post = (path: string, fallback: string, act: (request: FastifyRequest) => Promise<string>) =>
    app.post(path, async (request, reply): Promise<FastifyReply> => {
      const session = sessionOrSignIn(deps, request, reply);
      if (isReply(session)) return session;
      if (!deps.sessions.csrfOk(request, session)) {
        return reply
          .code(403)
          .type('text/html; charset=utf-8')
          .send(
            '<!doctype html><title>Refused</title><p>Refused: this form is stale or came from another site (CSRF check). Reload the page and try again.</p>',
          );
      }
      try {
        return done(request, reply, await act(request), fallback);
      } catch (err) {
        if (err instanceof NightshiftError && err.status < 500) return done(request, reply, `Refused: ${err.message}`, fallback);
        throw err;
      }
    });

  post('/files/:id/reprocess', '/files', async (request) => {
    const { id } = parse(Id, request.params);
    const count = await ops.reprocessIds([id]);
    if (count === 0) {
      const file = await store.getFile(id);
      return file ? `File ${file.filename} is being processed: reprocess it when it has finished.` : `No file ${id}.`;
    }
    return 'File queued for reprocessing.';
  });

  post('/failures/reprocess', '/failures', async (request) => {
    const { reason } = parse(Reason, request.body);
    const group = (await failureGroups(store)).groups.find((g) => g.reason === reason);
    if (!group) return 'No failed files have that reason any more.';
    const batch = deps.batches.start(reason, group.fileIds);
    batch.enqueued = await ops.reprocessIds(group.fileIds);
    request.log.info({ reason, files: group.fileIds.length, enqueued: batch.enqueued }, 'console: failure group reprocessed');
    return `Reprocessing ${batch.enqueued} of ${group.fileIds.length} files failed with “${reason}”.`;
  });

  post('/notifications/:id/retry', '/notifications', async (request) => {
    const { id } = parse(Id, request.params);
    const outcome = await ops.retryNotification(id);
    if ('missing' in outcome) return `No notification ${id}.`;
    if ('notDead' in outcome) return 'That notification is not dead: only dead ones are retried.';
    return 'Notification queued again.';
  });

  post('/notifications/retry-dead', '/notifications', async (request) => {
    const count = await ops.retryDead(parse(DeadFilter, request.body ?? {}));
    return `${count} dead notification${count === 1 ? '' : 's'} queued again.`;
  });

  post('/schedules/:name/pause', '/schedules', async (request) => {
    const { name } = parse(Name, request.params);
    await ops.controls.pauseSchedule(name, 'console');
    return `Schedule ${name} paused.`;
  });
  post('/schedules/:name/resume', '/schedules', async (request) => {
    const { name } = parse(Name, request.params);
    await ops.controls.resumeSchedule(name);
    return `Schedule ${name} resumed.`;
  });
  post('/schedules/:name/run', '/schedules', async (request) => {
    const { name } = parse(Name, request.params);
    await ops.controls.runSchedule(name);
    return `${name} queued to run now.`;
  });

  const jobName = (request: FastifyRequest) => {
    const { name } = parse(Name, request.params);
    if (!ops.jobNames.includes(name as never)) throw new NightshiftError(ErrorCodes.NOT_FOUND, `no job named ${name}`, { status: 404 });
    return name as (typeof ops.jobNames)[number];
  };
  post('/jobs/:name/pause', '/workers', async (request) => {
    const job = jobName(request);
    await ops.controls.pause({ job }, 'console');
    return `Job ${job} paused: its jobs wait until it is resumed.`;
  });
  post('/jobs/:name/resume', '/workers', async (request) => {
    const job = jobName(request);
    await ops.controls.resume({ job });
    return `Job ${job} resumed.`;
  });
}
