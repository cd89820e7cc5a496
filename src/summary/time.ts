/**
 * Local dates and times in an IANA timezone, with nothing but Intl: which summary date is due
 * for someone whose clock reads what, and which 24 hours it covers.
 */

const DAY_MS = 86_400_000;
const dateFormats = new Map<string, Intl.DateTimeFormat>();

function format(timeZone: string): Intl.DateTimeFormat {
  let f = dateFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    dateFormats.set(timeZone, f);
  }
  return f;
}

/** The wall clock at `at` in `timeZone`, read as if it were UTC (ms). */
function wallAsUtc(at: number, timeZone: string): number {
  const parts = format(timeZone).formatToParts(new Date(at));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
}

/** YYYY-MM-DD of `at` in `timeZone`. */
export function localDate(at: Date, timeZone: string): string {
  return new Date(wallAsUtc(at.getTime(), timeZone)).toISOString().slice(0, 10);
}

/** The day before a YYYY-MM-DD date. */
export function previousDate(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) - DAY_MS).toISOString().slice(0, 10);
}

/**
 * The instant the wall clock in `timeZone` reads `date` `hhmm`. In a DST gap (a time that does
 * not exist that day) it is the instant just after the gap; in an overlap, the earlier one.
 */
export function zonedInstant(date: string, hhmm: string, timeZone: string): Date {
  const wall = Date.parse(`${date}T${hhmm}:00Z`);
  // Two rounds settle the offset, also when the first guess falls on the other side of a DST change.
  let guess = wall - (wallAsUtc(wall, timeZone) - wall);
  guess = wall - (wallAsUtc(guess, timeZone) - guess);
  return new Date(guess);
}

export interface SummaryWindow {
  /** The local date the summary is for (and is sent on), YYYY-MM-DD. */
  readonly date: string;
  readonly timeZone: string;
  /** [from, to): the 24 hours before the configured local time on `date`. */
  readonly from: Date;
  readonly to: Date;
}

/** The window of the summary for `date` at local time `hhmm` in `timeZone`. */
export function summaryWindow(date: string, hhmm: string, timeZone: string): SummaryWindow {
  const to = zonedInstant(date, hhmm, timeZone);
  const from = zonedInstant(previousDate(date), hhmm, timeZone);
  return { date, timeZone, from, to };
}

/**
 * The latest summary whose send time has passed at `now`: today's once the local clock has
 * passed `hhmm`, else yesterday's. A run after downtime therefore catches up on the last missed
 * summary only, never on every missed day.
 */
export function dueWindow(now: Date, hhmm: string, timeZone: string): SummaryWindow {
  const today = localDate(now, timeZone);
  const w = summaryWindow(today, hhmm, timeZone);
  return w.to.getTime() <= now.getTime() ? w : summaryWindow(previousDate(today), hhmm, timeZone);
}
