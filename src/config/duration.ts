const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The way to write a duration in config: `<n><unit>` groups, units ms, s, m, h, d (`90s`, `1h30m`, `24h`). */
export const DURATION_HINT = 'must be a duration like 30s, 90m, 24h or 1h30m (units ms, s, m, h, d)';

/** A config duration in ms, or undefined if it is not one. */
export function parseDuration(raw: string): number | undefined {
  const text = raw.trim().toLowerCase();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(n) * (UNITS[unit!] ?? NaN);
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

/** Milliseconds as the shortest duration text that reads back the same (`86400000` → `24h`). */
export function formatDuration(ms: number): string {
  // Hours up to two days (`24h` reads better than `1d`).
  if (ms >= 2 * 86_400_000 && ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
