import { CronExpressionParser } from 'cron-parser';
import humanInterval from 'human-interval';

import { defaults } from '../../config/defaults.js';
import { ConfigError, type ConfigIssue } from '../config/section.js';
import type { JobName } from '../engine/payloads.js';
import { isValidTimeZone } from '../timezone.js';

/** A periodic job as its definition declares it: its name and default schedule. */
export interface PeriodicJobSource {
  readonly name: JobName;
  readonly schedule?: { readonly every: string; readonly description: string } | undefined;
}

export interface Schedule {
  readonly job: JobName;
  /**
   * What Agenda's every() gets: a cron expression ("0 * * * *", or six fields with seconds),
   * milliseconds as a number, or a human interval ("15 minutes"). null: the schedule is off.
   */
  readonly every: string | number | null;
  /** IANA timezone the cron expression is read in. */
  readonly timezone: string;
  /** Env key the schedule came from, for messages. */
  readonly key: string;
}

/** SCHEDULE_CLEANUP_STUCK for cleanup-stuck, and so on. */
export const scheduleKey = (job: string): string => `SCHEDULE_${job.toUpperCase().replace(/-/g, '_')}`;

export function isCron(expr: string): boolean {
  return expr.trim().split(/\s+/).length >= 5;
}

/** Interval in ms of a non-cron schedule, or NaN. */
export function intervalMs(every: string | number): number {
  if (typeof every === 'number') return every;
  if (/^\d+$/.test(every.trim())) return Number(every.trim());
  const ms = humanInterval(every);
  return typeof ms === 'number' ? ms : Number.NaN;
}

/**
 * One schedule value as Agenda will read it, or an error message. Numbers are milliseconds
 * (at least 1000); strings of five or six fields are cron; anything else must be a human
 * interval Agenda understands.
 */
export function parseEvery(raw: string, timezone: string): { every: string | number | null } | { error: string } {
  const value = raw.trim();
  if (value.toLowerCase() === 'off') return { every: null };
  if (/^\d+$/.test(value)) {
    const ms = Number(value);
    return ms >= 1000 ? { every: ms } : { error: `an interval in ms must be at least 1000, got ${value}` };
  }
  if (isCron(value)) {
    try {
      CronExpressionParser.parse(value, { tz: timezone, strict: false });
      return { every: value };
    } catch (err) {
      return { error: `not a valid cron expression (${(err as Error).message})` };
    }
  }
  const ms = intervalMs(value);
  if (!Number.isFinite(ms) || ms < 1000) {
    return { error: `must be a cron expression ("0 * * * *"), milliseconds, an interval such as "15 minutes", or off; got ${JSON.stringify(raw)}` };
  }
  return { every: value };
}

/**
 * Schedules from the environment: `SCHEDULE_<JOB>` (cron, ms, human interval or `off`) and
 * `SCHEDULE_<JOB>_TIMEZONE`, falling back to `SCHEDULE_TIMEZONE`. Every problem is collected
 * and thrown as one CONFIG_INVALID naming the keys.
 */
export function parseSchedules(env: Readonly<Record<string, string | undefined>>, jobs: readonly PeriodicJobSource[]): readonly Schedule[] {
  const problems: ConfigIssue[] = [];
  const blank = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v);
  const baseTz = blank(env.SCHEDULE_TIMEZONE) ?? defaults.SCHEDULE_TIMEZONE;
  if (!isValidTimeZone(baseTz))
    problems.push({ key: 'SCHEDULE_TIMEZONE', message: `must be an IANA timezone such as Asia/Tokyo, got ${JSON.stringify(baseTz)}` });
  const schedules: Schedule[] = [];
  for (const { name: job, schedule } of jobs) {
    if (!schedule) continue;
    const key = scheduleKey(job);
    const tz = blank(env[`${key}_TIMEZONE`]) ?? baseTz;
    if (tz !== baseTz && !isValidTimeZone(tz)) {
      problems.push({ key: `${key}_TIMEZONE`, message: `must be an IANA timezone such as Asia/Tokyo, got ${JSON.stringify(tz)}` });
      continue;
    }
    const parsed = parseEvery(blank(env[key]) ?? schedule.every, isValidTimeZone(tz) ? tz : 'UTC');
    if ('error' in parsed) problems.push({ key, message: parsed.error });
    else schedules.push({ job, every: parsed.every, timezone: tz, key });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return schedules;
}
