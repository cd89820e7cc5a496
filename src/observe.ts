import type { Agenda } from 'agenda';

import type { Logger } from './logger.js';
import type { JobOutcome, Metrics } from './metrics.js';

export interface ObserveOptions {
  readonly agenda: Agenda;
  readonly metrics: Metrics;
  /** Step start and finish lines go here (info), bound to job, jobId and fileId. */
  readonly log: Logger;
  /** The processing steps' job names: their runs are also step durations and get log lines. */
  readonly steps: readonly string[];
  /** Most runs at once in this process (for nightshift_jobs_concurrency). */
  readonly concurrency: number;
}

type Ev = { attrs: { _id?: unknown; name?: string; data?: unknown; failCount?: number | null } };

/**
 * Job outcomes and durations from Agenda's local events (a job's 'fail' is followed, in the same
 * run, by 'retry' when another attempt is scheduled, then by 'complete'), and one info line per
 * step start and finish with its duration. Remote events (other processes') are ignored: each
 * worker counts what it ran. Returns a function that stops listening.
 */
export function observeEngine(options: ObserveOptions): () => void {
  const { agenda, metrics, log } = options;
  const steps = new Set(options.steps);
  const runs = new Map<string, { at: number; name: string; failed: boolean; retry: boolean; log: Logger | undefined }>();
  const idOf = (job: Ev) => String(job.attrs._id);
  const load = () => metrics.setLoad(runs.size, options.concurrency);
  load();

  const onStart = (job: Ev, remote?: boolean) => {
    if (remote === true) return;
    const name = job.attrs.name ?? '';
    let stepLog: Logger | undefined;
    if (steps.has(name)) {
      const fileId = (job.attrs.data as { fileId?: unknown } | undefined)?.fileId;
      stepLog = log.child({ job: name, jobId: idOf(job), fileId, attempt: (job.attrs.failCount ?? 0) + 1 });
      stepLog.info(`${name} started`);
    }
    runs.set(idOf(job), { at: performance.now(), name, failed: false, retry: false, log: stepLog });
    load();
  };
  const onFail = (_err: unknown, job: Ev, remote?: boolean) => {
    const run = remote === true ? undefined : runs.get(idOf(job));
    if (run) run.failed = true;
  };
  const onRetry = (job: Ev, _details: unknown, remote?: boolean) => {
    const run = remote === true ? undefined : runs.get(idOf(job));
    if (run) run.retry = true;
  };
  const onComplete = (job: Ev, remote?: boolean) => {
    if (remote === true) return;
    const run = runs.get(idOf(job));
    runs.delete(idOf(job));
    load();
    if (!run) return;
    const seconds = (performance.now() - run.at) / 1000;
    const outcome: JobOutcome = !run.failed ? 'success' : run.retry ? 'retry' : 'failure';
    metrics.jobFinished(run.name, outcome, seconds);
    if (steps.has(run.name)) {
      metrics.stepFinished(run.name, seconds);
      const ms = Math.round(seconds * 1000);
      run.log?.info({ ms, outcome }, `${run.name} finished in ${ms} ms (${outcome})`);
    }
  };
  agenda.on('start', onStart);
  agenda.on('fail', onFail);
  agenda.on('retry', onRetry);
  agenda.on('complete', onComplete);
  return () => {
    agenda.off('start', onStart);
    agenda.off('fail', onFail);
    agenda.off('retry', onRetry);
    agenda.off('complete', onComplete);
  };
}
