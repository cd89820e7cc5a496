import { localDate, previousDate, zonedInstant } from '../timezone.js';

/** Which summary date is due for someone whose clock reads what, and which 24 hours it covers. */

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
