import type { Agenda, JobParameters } from 'agenda';

import type { Logger } from '../logger.js';
import type { Schedule } from './spec.js';

export type SyncAction = 'created' | 'updated' | 'unchanged' | 'disabled' | 'absent' | 'paused';

/** The one repeating Agenda row of a job (type 'single'), if any. */
export async function findScheduleJob(agenda: Agenda, job: string): Promise<JobParameters | undefined> {
  const { jobs } = await agenda.queryJobs({ name: job });
  return jobs.find((j) => j.type === 'single');
}

const sameSchedule = (row: JobParameters, s: Schedule) => String(row.repeatInterval ?? '') === String(s.every) && (row.repeatTimezone ?? null) === s.timezone;

/**
 * Make the stored repeating jobs match the configured schedules; worker roles call this at
 * start-up. A schedule that is already stored as configured is left alone, so its nextRunAt
 * survives restarts: a time missed while the service was down is still in the past and runs
 * once when a worker starts (Agenda then computes the next run from now, not per missed
 * occurrence). A changed schedule is saved through `every()`, whose upsert targets the unique
 * index on the name of 'single' jobs (both backends), so processes starting together end with
 * one row. `off` disables the row, keeping its history for the listing.
 *
 * Config sets the schedule, the operator sets the pause: a schedule in `paused` (paused by
 * `nightshift schedules pause` or with its job) is saved as configured and stays disabled; one
 * that is not paused and not off is enabled.
 */
export async function syncSchedules(
  agenda: Agenda,
  schedules: readonly Schedule[],
  log: Logger,
  paused: ReadonlySet<string> = new Set(),
): Promise<Record<string, SyncAction>> {
  const actions: Record<string, SyncAction> = {};
  for (const s of schedules) {
    const existing = await findScheduleJob(agenda, s.job);
    let action: SyncAction;
    if (s.every === null) {
      action = existing && !existing.disabled ? 'disabled' : existing ? 'unchanged' : 'absent';
      if (action === 'disabled') await agenda.disable({ name: s.job });
    } else if (existing && sameSchedule(existing, s) && existing.disabled === paused.has(s.job)) {
      action = 'unchanged';
    } else if (existing && sameSchedule(existing, s)) {
      // Only the pause differs: flip it, keeping nextRunAt.
      if (paused.has(s.job)) await agenda.disable({ id: existing._id! });
      else await agenda.enable({ id: existing._id! });
      action = paused.has(s.job) ? 'paused' : 'updated';
    } else {
      // skipImmediate: a new or changed schedule waits for its first occurrence instead of
      // running at once on every deploy that touches it.
      const row = await agenda.every(s.every, s.job, {}, { timezone: s.timezone, skipImmediate: true });
      if (paused.has(s.job)) await agenda.disable({ id: row.attrs._id! });
      action = paused.has(s.job) ? 'paused' : existing ? 'updated' : 'created';
    }
    actions[s.job] = action;
    log.info({ job: s.job, every: s.every ?? 'off', timezone: s.timezone, action }, 'schedule');
  }
  return actions;
}
