import type { ActivitySummary } from './report-types.js';

export const HOUR_MS = 3_600_000;

/** What each store reads for a summary; the shaping is shared so every engine answers alike. */
export interface SummaryParts {
  /** Uploads per hour bucket (bucket = floor((uploadedAt - from) / 1 h)); missing buckets had none. */
  readonly uploadsByBucket: ReadonlyArray<{ bucket: number; n: number }>;
  /** Every file finished in the window. */
  readonly finished: ReadonlyArray<{ failed: boolean; completedAt: number; startedAt: number | null }>;
  /** At most 5, most first. */
  readonly topFailures: ReadonlyArray<{ reason: string; count: number }>;
}

/** Hourly buckets cover [from, to): ceil of the window in hours, at least one. */
export function bucketCount(from: Date, to: Date): number {
  return Math.max(1, Math.ceil((to.getTime() - from.getTime()) / HOUR_MS));
}

export function buildSummary(from: Date, to: Date, parts: SummaryParts): ActivitySummary {
  const f = from.getTime();
  const hourly = Array.from({ length: bucketCount(from, to) }, (_, i) => ({ hour: new Date(f + i * HOUR_MS), uploads: 0, failures: 0 }));
  let uploaded = 0;
  for (const { bucket, n } of parts.uploadsByBucket) {
    uploaded += n;
    const h = hourly[bucket];
    if (h) h.uploads += n;
  }
  let completed = 0;
  let failed = 0;
  const processingMs: number[] = [];
  for (const r of parts.finished) {
    if (r.failed) {
      failed++;
      const h = hourly[Math.floor((r.completedAt - f) / HOUR_MS)];
      if (h) h.failures++;
    } else {
      completed++;
    }
    // A file failed before it started (failFile from uploaded) has no processing time.
    if (r.startedAt !== null) processingMs.push(r.completedAt - r.startedAt);
  }
  processingMs.sort((a, b) => a - b);
  return { uploaded, completed, failed, processingMs, topFailures: parts.topFailures.map((t) => ({ ...t })), hourly };
}
