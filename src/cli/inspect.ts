import type { Command } from 'commander';

import type { JobName } from '../engine/payloads.js';
import { presentPauses, presentWorker } from '../http/ops.js';
import { registry } from '../registry.js';
import { UsageError, withContext } from './context.js';
import { ago, type OutputOptions, printJson, printLine, printTable } from './output.js';

const checkJob = (name: string | undefined): JobName | undefined => {
  if (name === undefined) return undefined;
  if (!registry.jobs.some((j) => j.name === name))
    throw new UsageError(`no job named ${JSON.stringify(name)} (jobs: ${registry.jobs.map((j) => j.name).join(', ')})`);
  return name as JobName;
};

/** status, workers, jobs active|registered|failed: what `celery inspect` and `celery status` answer. */
export function inspectVerbs(program: Command): void {
  program
    .command('status')
    .description('files by status, queue per job, workers alive, pauses')
    .option('--json', 'machine-readable output')
    .action((opts: OutputOptions) =>
      withContext(async ({ ops }) => {
        const [stats, pauses] = await Promise.all([ops.stats(), ops.controls.pauses()]);
        if (opts.json) return printJson({ ...stats, paused: presentPauses(pauses) });
        printLine(
          `files: ${Object.entries(stats.files)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
        );
        printLine(`workers: ${stats.workers.alive} alive, ${stats.workers.stale} stale`);
        printLine(`paused: ${pauses.pipeline ? 'pipeline; ' : ''}${[...pauses.jobs].join(', ') || 'nothing'}`);
        printTable(
          ['job', 'queued', 'running', 'scheduled', 'failed', 'paused'],
          Object.entries(stats.jobs).map(([name, j]) => [name, j.queued, j.running, j.scheduled, j.failed, j.paused]),
        );
      }),
    );

  program
    .command('workers')
    .description('every process in the registry: alive or stale, what it serves and runs now')
    .option('--json', 'machine-readable output')
    .action((opts: OutputOptions) =>
      withContext(async ({ store }) => {
        const now = new Date();
        const workers = await store.workers.list(now);
        if (opts.json) return printJson(workers.map(presentWorker));
        printTable(
          ['id', 'role', 'state', 'last beat', 'running', 'jobs', 'version'],
          workers.map((w) => [
            w.id,
            w.role,
            w.state,
            ago(w.heartbeatAt, now),
            `${w.running.length}/${w.concurrency}`,
            w.jobs.length === registry.jobs.length ? 'all' : w.jobs.join(','),
            w.version,
          ]),
        );
      }),
    );

  const jobs = program.command('jobs').description('what runs, what is registered, what failed; purge');
  jobs
    .command('active')
    .description('runs under way on every worker (job, file, started, attempt)')
    .option('--job <name>', 'only this job')
    .option('--json', 'machine-readable output')
    .action((opts: OutputOptions & { job?: string }) =>
      withContext(async ({ store }) => {
        const name = checkJob(opts.job);
        const now = new Date();
        const rows = (await store.workers.list(now))
          .filter((w) => w.state === 'alive')
          .flatMap((w) => w.running.filter((r) => !name || r.job === name).map((r) => ({ worker: w.id, ...r })));
        if (opts.json) return printJson(rows);
        printTable(
          ['worker', 'job', 'job id', 'file', 'started', 'attempt'],
          rows.map((r) => [r.worker, r.job, r.jobId, r.fileId, ago(r.startedAt, now), r.attempt]),
        );
      }),
    );
  jobs
    .command('registered')
    .description('every job with its options, who serves it and whether it is paused')
    .option('--job <name>', 'only this job')
    .option('--json', 'machine-readable output')
    .action((opts: OutputOptions & { job?: string }) =>
      withContext(async ({ store, config, ops }) => {
        const name = checkJob(opts.job);
        const [workers, pauses] = await Promise.all([store.workers.list(new Date()), ops.controls.pauses()]);
        const rows = registry.jobs
          .filter((j) => !name || j.name === name)
          .map((j) => ({
            name: j.name,
            description: j.description,
            options: config.jobs[j.name],
            paused: pauses.jobs.has(j.name),
            workers: workers.filter((w) => w.state === 'alive' && w.jobs.includes(j.name)).map((w) => w.id),
          }));
        if (opts.json) return printJson(rows);
        printTable(
          ['job', 'concurrency', 'attempts', 'timeout ms', 'paused', 'workers'],
          rows.map((r) => [r.name, r.options.concurrency, r.options.attempts, r.options.timeoutMs, r.paused ? 'yes' : '', r.workers.length]),
        );
      }),
    );
  jobs
    .command('failed')
    .description('jobs that failed for good, newest first')
    .option('--job <name>', 'only this job')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'machine-readable output')
    .action((opts: OutputOptions & { job?: string; limit: string }) =>
      withContext(async ({ ops }) => {
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive whole number');
        const rows = await ops.engine.maintenance.listJobs({ name: checkJob(opts.job), state: 'failed', limit });
        if (opts.json) return printJson(rows);
        printTable(
          ['job', 'id', 'failed at', 'attempts', 'reason', 'data'],
          rows.map((r) => [r.name, r.id, r.failedAt, r.failCount, r.failReason, JSON.stringify(r.data)]),
        );
      }),
    );
}

export { checkJob };
