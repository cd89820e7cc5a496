import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import type { JobName } from '../engine/payloads.js';
import { ErrorCodes, NightshiftError } from '../errors.js';
import type { Operations } from '../ops/index.js';
import type { PauseSet } from '../ops/pauses.js';
import type { WorkerRecord } from '../store/ops-types.js';
import type { Store } from '../store/types.js';
import { OWNER } from './files.js';
import { routeSchema } from './schema.js';
import { parse } from './validate.js';

const Name = z.object({ name: z.string().min(1).max(64) });
const Filter = z
  .object({
    status: z.enum(['uploaded', 'processing', 'completed', 'failed']).optional(),
    owner: OWNER.optional(),
    step: z.string().min(1).max(64).optional(),
    uploadedBefore: z.coerce.date().optional(),
    uploadedAfter: z.coerce.date().optional(),
  })
  .strict();
const DeadFilter = z.object({ event: z.string().max(64).optional(), channel: z.string().max(64).optional(), owner: z.string().max(128).optional() }).strict();
const JobsQuery = z.object({
  state: z.enum(['running', 'queued', 'scheduled', 'failed', 'completed', 'paused']).default('failed'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export function presentWorker(w: WorkerRecord) {
  return {
    id: w.id,
    host: w.host,
    pid: w.pid,
    role: w.role,
    state: w.state,
    jobs: w.jobs,
    concurrency: w.concurrency,
    running: w.running.map((r) => ({ ...r, startedAt: r.startedAt.toISOString() })),
    startedAt: w.startedAt.toISOString(),
    version: w.version,
    heartbeatAt: w.heartbeatAt.toISOString(),
    heartbeatMs: w.heartbeatMs,
    locksReleasedAt: w.locksReleasedAt?.toISOString() ?? null,
  };
}

export function presentPauses(p: PauseSet) {
  return {
    pipeline: p.pipeline,
    jobs: [...p.jobs].sort(),
    schedules: [...p.schedules].sort(),
    controls: p.controls.map((c) => ({ key: c.key, by: c.by, at: c.at.toISOString() })),
  };
}

/**
 * The operator's routes: workers, pauses, schedules' controls, purge, bulk reprocess, bulk retry
 * of dead notifications and the stats. The same operations back the CLI (src/cli/).
 */
export function opsRoutes(api: FastifyInstance, deps: { store: Store; ops: Operations }): void {
  const { store, ops } = deps;
  const tags = ['ops'];
  const job = (name: string): JobName => {
    if (!ops.jobNames.includes(name as JobName)) throw new NightshiftError(ErrorCodes.NOT_FOUND, `no job named ${JSON.stringify(name)}`, { status: 404 });
    return name as JobName;
  };

  api.get('/workers', { schema: routeSchema({ summary: 'Every running process', tags }) }, async () => ({
    items: (await store.workers.list(new Date())).map(presentWorker),
  }));
  api.get('/stats', { schema: routeSchema({ summary: 'Queue and file figures', tags }) }, async () => ops.stats());
  api.get('/controls', { schema: routeSchema({ summary: 'The stored pauses', tags }) }, async () => presentPauses(await ops.controls.pauses()));

  api.post('/pipeline/pause', { schema: routeSchema({ summary: 'Pause the pipeline', tags }) }, async () => presentPauses(await ops.controls.pause({}, 'api')));
  api.post('/pipeline/resume', { schema: routeSchema({ summary: 'Resume the pipeline', tags }) }, async () => presentPauses(await ops.controls.resume({})));
  api.post('/jobs/:name/pause', { schema: routeSchema({ summary: 'Pause one job', tags, params: Name }) }, async (request) =>
    presentPauses(await ops.controls.pause({ job: job(parse(Name, request.params).name) }, 'api')),
  );
  api.post('/jobs/:name/resume', { schema: routeSchema({ summary: 'Resume one job', tags, params: Name }) }, async (request) =>
    presentPauses(await ops.controls.resume({ job: job(parse(Name, request.params).name) })),
  );
  api.post('/jobs/:name/purge', { schema: routeSchema({ summary: 'Remove queued runs of one job', tags, params: Name }) }, async (request) =>
    ops.purge(job(parse(Name, request.params).name)),
  );
  api.get('/jobs/:name/jobs', { schema: routeSchema({ summary: 'Runs of one job by state', tags, params: Name, querystring: JobsQuery }) }, async (request) => {
    const name = job(parse(Name, request.params).name);
    const q = parse(JobsQuery, request.query);
    return { items: await ops.engine.maintenance.listJobs({ name, state: q.state, limit: q.limit }) };
  });

  api.post('/schedules/:name/pause', { schema: routeSchema({ summary: 'Pause a schedule', tags, params: Name }) }, async (request) =>
    presentPauses(await ops.controls.pauseSchedule(parse(Name, request.params).name, 'api')),
  );
  api.post('/schedules/:name/resume', { schema: routeSchema({ summary: 'Resume a schedule', tags, params: Name }) }, async (request) =>
    presentPauses(await ops.controls.resumeSchedule(parse(Name, request.params).name)),
  );
  api.post('/schedules/:name/run', { schema: routeSchema({ summary: 'Run a schedule now', tags, params: Name }) }, async (request, reply) => {
    await ops.controls.runSchedule(parse(Name, request.params).name);
    return reply.code(202).send({ queued: true });
  });

  api.post('/files/reprocess', { schema: routeSchema({ summary: 'Reprocess the files matching a filter', tags, body: Filter }) }, async (request, reply) => {
    const f = parse(Filter, request.body ?? {});
    if (Object.values(f).every((v) => v === undefined)) {
      throw new NightshiftError(
        ErrorCodes.BAD_REQUEST,
        'give at least one of status, owner, step, uploadedBefore, uploadedAfter (reprocessing every file is not a default)',
        { status: 400 },
      );
    }
    const count = await ops.reprocess({
      status: f.status,
      owner: f.owner,
      failedStep: f.step,
      uploadedBefore: f.uploadedBefore,
      uploadedAfter: f.uploadedAfter,
    });
    return reply.code(202).send({ count });
  });

  api.post(
    '/notifications/retry',
    { schema: routeSchema({ summary: 'Retry the dead notifications matching a filter', tags, body: DeadFilter }) },
    async (request, reply) => reply.code(202).send({ count: await ops.retryDead(parse(DeadFilter, request.body ?? {})) }),
  );
}
