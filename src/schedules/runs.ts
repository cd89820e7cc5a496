import { CronExpressionParser } from 'cron-parser';

import { type JobContext, type JobDefinition, type JobName, lockLifetimeMs } from '../engine/job.js';
import { toError } from '../errors.js';
import { intervalMs, isCron, type Schedule } from './spec.js';

/** What a periodic job did, as counts (the handler's return value). */
export type RunCounts = Readonly<Record<string, number>>;

/**
 * The occurrence a scheduled run at `at` belongs to, as ISO text: the latest cron tick at or
 * before it, or for an interval the start of its interval-sized slot since the epoch. Runs of
 * one schedule are at least one interval apart, so consecutive runs always land in different
 * occurrences, while two rows handed the same tick land in the same one.
 */
export function occurrenceOf(schedule: Pick<Schedule, 'every' | 'timezone'>, at: Date): string {
  const every = schedule.every;
  if (every === null) throw new Error('a disabled schedule has no occurrences');
  if (typeof every === 'string' && isCron(every)) {
    // prev() is strictly before currentDate: +1 ms makes a run exactly on its tick belong to it.
    const cron = CronExpressionParser.parse(every, { tz: schedule.timezone, currentDate: new Date(at.getTime() + 1) });
    return cron.prev().toDate().toISOString();
  }
  const ms = intervalMs(every);
  return new Date(Math.floor(at.getTime() / ms) * ms).toISOString();
}

function countsOf(value: unknown): RunCounts {
  if (!value || typeof value !== 'object') return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, number] => typeof e[1] === 'number'));
}

export interface RecordRunsOptions {
  /** The job's schedule; runs with an empty payload are its occurrences. */
  readonly schedule: Schedule | undefined;
  /** Recorded as the run's worker (Agenda's process name). */
  readonly worker: string;
  readonly now?: () => Date;
}

/**
 * Wrap a periodic job so each run claims its occurrence in `store.runs` first and records its
 * counts (and the log line) when it ends. A scheduled run (empty payload) is keyed by its
 * occurrence, so if two Agenda rows ever existed for one schedule the second run of the same
 * tick does nothing; `{ manual: true }` runs are keyed by their Agenda job id. Any other
 * payload (quota-check for one owner after an upload) runs unrecorded.
 */
export function recordRuns<N extends JobName>(def: JobDefinition<N>, options: RecordRunsOptions): JobDefinition<N> {
  const now = options.now ?? (() => new Date());
  return {
    ...def,
    async handler(ctx: JobContext<N>) {
      const data = (ctx.data ?? {}) as Record<string, unknown>;
      const scheduled = Object.keys(data).length === 0;
      let occurrence: string | undefined;
      if (scheduled && options.schedule && options.schedule.every !== null) occurrence = occurrenceOf(options.schedule, now());
      else if (data.manual === true || scheduled) occurrence = `manual:${ctx.jobId}`;
      if (occurrence === undefined) {
        await def.handler(ctx);
        return;
      }
      const { runs } = ctx.services.store;
      const started = now();
      const claimed = await runs.begin({
        job: def.name,
        occurrence,
        worker: options.worker,
        // The engine's lock lifetime: a run older than this lost its worker.
        staleBefore: new Date(started.getTime() - lockLifetimeMs(ctx.options)),
      });
      if (!claimed) {
        ctx.log.warn({ occurrence }, 'occurrence already run or running elsewhere: skipped');
        return;
      }
      try {
        const counts = countsOf(await def.handler(ctx));
        await runs.finish(def.name, occurrence, { status: 'succeeded', result: counts });
        ctx.log.info({ occurrence, counts, ms: Date.now() - started.getTime() }, `${def.name} finished`);
      } catch (err) {
        await runs
          .finish(def.name, occurrence, { status: 'failed', error: toError(err).message })
          .catch((e: unknown) => ctx.log.error({ err: toError(e) }, 'could not record the failed run'));
        throw err;
      }
    },
  };
}
