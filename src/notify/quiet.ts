import type { QuietHours } from '../store/owner-types.js';
import { localClock } from '../timezone.js';

function toMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/**
 * If `now` falls in the owner's quiet hours, the instant they end; else null. Messages are held
 * until then, not dropped. (Across a DST change the hold may be an hour off: acceptable for a hold.)
 */
export function quietUntil(now: Date, timeZone: string, quiet: QuietHours | null): Date | null {
  if (!quiet) return null;
  const start = toMinutes(quiet.start);
  const end = toMinutes(quiet.end);
  if (start === end) return null;
  const { minutes, seconds } = localClock(now, timeZone);
  const inside = start < end ? minutes >= start && minutes < end : minutes >= start || minutes < end;
  if (!inside) return null;
  const wait = (end - minutes + 1440) % 1440;
  return new Date(now.getTime() + wait * 60_000 - seconds * 1000 - now.getMilliseconds());
}
