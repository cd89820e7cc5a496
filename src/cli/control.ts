import type { Command } from 'commander';

import { presentPauses } from '../http/ops.js';
import { listSchedules } from '../schedules/list.js';
import { withContext } from './context.js';
import { checkJob } from './inspect.js';
import { type OutputOptions, printJson, printLine, printTable, progressBar } from './output.js';

type JobOpts = OutputOptions & { job?: string };

/** pause, resume, jobs purge, schedules …: controls stored for every worker, surviving restarts. */
export function controlVerbs(program: Command, jobs: Command): void {
  program
    .command('pause')
    .description('pause a job type (--job), or the whole pipeline: its jobs wait, uploads are still accepted')
    .option('--job <name>', 'the job type to pause (default: process-file and every step)')
    .option('--json', 'machine-readable output')
    .action((opts: JobOpts) =>
      withContext(async ({ ops, actor }) => {
        const p = await ops.controls.pause({ job: checkJob(opts.job) }, actor);
        if (opts.json) return printJson(presentPauses(p));
        printLine(`paused ${opts.job ?? 'the pipeline'}; paused now: ${[...p.jobs].join(', ')}`);
      }),
    );
  program
    .command('resume')
    .description('resume a job type (--job), or the whole pipeline')
    .option('--job <name>', 'the job type to resume (default: the pipeline)')
    .option('--json', 'machine-readable output')
    .action((opts: JobOpts) =>
      withContext(async ({ ops }) => {
        const p = await ops.controls.resume({ job: checkJob(opts.job) });
        if (opts.json) return printJson(presentPauses(p));
        printLine(`resumed ${opts.job ?? 'the pipeline'}; paused now: ${[...p.jobs].join(', ') || 'nothing'}`);
      }),
    );

  jobs
    .command('purge')
    .description("remove the queued jobs of a type; files whose work is purged end failed 'purged by operator'")
    .requiredOption('--job <name>', 'the job type')
    .option('--json', 'machine-readable output')
    .action((opts: JobOpts & { job: string }) =>
      withContext(async ({ ops }) => {
        const bar = progressBar(opts, 'purging');
        const r = await ops.purge(checkJob(opts.job)!, bar.update);
        bar.stop();
        if (opts.json) return printJson(r);
        printLine(`purged ${r.purged} ${opts.job} jobs; ${r.filesFailed} files failed`);
      }),
    );

  const schedules = program.command('schedules').description('the periodic jobs: list, run now, pause, resume');
  schedules
    .command('list')
    .description('each schedule, its next and last run, paused or not')
    .option('--json', 'machine-readable output')
    .action((opts: OutputOptions) =>
      withContext(async ({ engine, store, config }) => {
        const items = await listSchedules(engine.agenda, store.runs, config.schedules);
        if (opts.json) return printJson(items);
        printTable(
          ['name', 'schedule', 'timezone', 'paused', 'next run', 'last run', 'last status'],
          items.map((s) => [s.name, s.schedule ?? 'off', s.timezone, s.disabled ? 'yes' : '', s.nextRunAt, s.lastRunAt, s.lastRun?.status]),
        );
      }),
    );
  for (const [verb, what] of [
    ['run', 'run one now, once (a manual run)'],
    ['pause', 'pause its schedule (stored: it stays paused across restarts until resumed)'],
    ['resume', 'resume its schedule'],
  ] as const) {
    schedules
      .command(`${verb} <name>`)
      .description(what)
      .option('--json', 'machine-readable output')
      .action((name: string, opts: OutputOptions) =>
        withContext(async ({ ops, actor }) => {
          if (verb === 'run') await ops.controls.runSchedule(name);
          else if (verb === 'pause') await ops.controls.pauseSchedule(name, actor);
          else await ops.controls.resumeSchedule(name);
          if (opts.json) return printJson({ schedule: name, action: verb });
          printLine(verb === 'run' ? `queued a run of ${name}` : `${verb === 'pause' ? 'paused' : 'resumed'} schedule ${name}`);
        }),
      );
  }
}
