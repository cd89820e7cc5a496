/**
 * Local dates and times in an IANA timezone, with nothing but Intl: the one module every
 * timezone question goes through (schedules, quiet hours, summaries, charts).
 */

/** True if `tz` is an IANA timezone name this runtime knows (e.g. Asia/Tokyo). */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

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

/** Minutes since local midnight in `timeZone`, and the seconds into that minute. */
export function localClock(now: Date, timeZone: string): { minutes: number; seconds: number } {
  const parts = format(timeZone).formatToParts(now);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return { minutes: get('hour') * 60 + get('minute'), seconds: get('second') };
}

/** The local hour ("00".."23") of an instant in `timeZone`. */
export function localHour(at: Date, timeZone: string): string {
  return String(new Date(wallAsUtc(at.getTime(), timeZone)).getUTCHours()).padStart(2, '0');
}
