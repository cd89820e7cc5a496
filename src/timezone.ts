/** True if `tz` is an IANA timezone name this runtime knows (e.g. Asia/Tokyo). */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
