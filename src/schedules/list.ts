import type { Agenda } from 'agenda';

import type { RunRepo, RunStatus } from '../store/run-types.js';
import type { Schedule } from './spec.js';
import { findScheduleJob } from './sync.js';

export interface ScheduleView {
  readonly name: string;
  /** Cron expression, ms, or human interval as configured; null when off. */
  readonly schedule: string | number | null;
  readonly timezone: string;
  readonly disabled: boolean;
  /** From the stored Agenda job (null before a worker first created it). */
  readonly nextRunAt: Date | null;
  readonly lastRunAt: Date | null;
  readonly lastFinishedAt: Date | null;
  readonly lastRun: {
    readonly occurrence: string;
    readonly status: RunStatus;
    readonly startedAt: Date;
    readonly finishedAt: Date | null;
    readonly counts: Readonly<Record<string, number>> | null;
    readonly error: string | null;
  } | null;
}

/** The configured schedules with their stored state and last recorded run. */
export async function listSchedules(agenda: Agenda, runs: RunRepo, schedules: readonly Schedule[]): Promise<ScheduleView[]> {
  return Promise.all(
    schedules.map(async (s): Promise<ScheduleView> => {
      const [row, last] = await Promise.all([findScheduleJob(agenda, s.job), runs.list(s.job, 1)]);
      const run = last[0];
      return {
        name: s.job,
        schedule: s.every,
        timezone: s.timezone,
        disabled: s.every === null || row?.disabled === true,
        nextRunAt: row?.disabled ? null : (row?.nextRunAt ?? null),
        lastRunAt: row?.lastRunAt ?? null,
        lastFinishedAt: row?.lastFinishedAt ?? null,
        lastRun: run
          ? { occurrence: run.occurrence, status: run.status, startedAt: run.startedAt, finishedAt: run.finishedAt, counts: run.result, error: run.error }
          : null,
      };
    }),
  );
}
