import { availableParallelism } from 'node:os';

import type { ConfigIssue } from '../config/section.js';
import type { JobName } from './payloads.js';

/**
 * How a job runs. Each key can be overridden per job by JOB_<NAME>_<KEY> (e.g.
 * JOB_OCR_CONCURRENCY), validated at start-up.
 */
export interface JobOptions {
  /** Runs of this job at once in one process. */
  readonly concurrency: number;
  /** Attempts in all, including the first. */
  readonly attempts: number;
  /** Delay before the first retry, ms; doubles each retry (exponential backoff). */
  readonly backoffMs: number;
  /** Hard time limit of one attempt, ms: the attempt fails with STEP_TIMEOUT. */
  readonly timeoutMs: number;
  /** Soft time limit, ms (below the hard one): the handler's signal fires so it can stop cleanly. */
  readonly softTimeoutMs: number;
  /** Higher runs first among due jobs (Agenda priority, -20..20). */
  readonly priority: number;
}

/** A definition's defaults: the soft limit defaults to 90 % of the hard one, the priority to 0. */
export type JobDefaults = Omit<JobOptions, 'concurrency' | 'softTimeoutMs' | 'priority'> &
  Partial<Pick<JobOptions, 'softTimeoutMs' | 'priority'>> & {
    /** A number, or 'cores': one run per core of this machine (os.availableParallelism()). */
    readonly concurrency: number | 'cores';
  };

/** The options a definition runs with when nothing overrides them. */
export function defaultOptions(defaults: JobDefaults): JobOptions {
  return {
    ...defaults,
    concurrency: defaults.concurrency === 'cores' ? availableParallelism() : defaults.concurrency,
    softTimeoutMs: defaults.softTimeoutMs ?? Math.floor(defaults.timeoutMs * 0.9),
    priority: defaults.priority ?? 0,
  };
}

/**
 * How long a lock may be held before it belongs to a dead worker: the hard limit ends every
 * attempt, and a live run touches its lock, so a lock older than this plus a margin is dead.
 */
export function lockLifetimeMs(options: Pick<JobOptions, 'timeoutMs'>): number {
  return options.timeoutMs + 30_000;
}

/** What the options section needs of a job definition. */
export interface JobOptionSource {
  readonly name: JobName;
  readonly description: string;
  readonly defaults: JobDefaults;
}

/** The knobs every job has, with the env suffix and what they mean (the README table). */
export const JOB_KNOBS = [
  { option: 'concurrency', suffix: 'CONCURRENCY', min: 1, max: 1_000, doc: 'runs at once in one worker process' },
  { option: 'attempts', suffix: 'ATTEMPTS', min: 1, max: 1_000, doc: 'attempts in all, including the first' },
  { option: 'backoffMs', suffix: 'BACKOFF_MS', min: 0, max: 86_400_000, doc: 'delay before the first retry (ms), doubling each retry' },
  { option: 'timeoutMs', suffix: 'TIMEOUT_MS', min: 100, max: 86_400_000, doc: 'hard time limit of one attempt (ms): it fails with STEP_TIMEOUT' },
  {
    option: 'softTimeoutMs',
    suffix: 'SOFT_TIMEOUT_MS',
    min: 0,
    max: 86_400_000,
    doc: "soft limit (ms): the job's signal fires so it can stop cleanly (default 90 % of the hard limit; 0: none)",
  },
  { option: 'priority', suffix: 'PRIORITY', min: -20, max: 20, doc: 'higher runs first among due jobs' },
] as const satisfies ReadonlyArray<{ option: keyof JobOptions; suffix: string; min: number; max: number; doc: string }>;

/** JOB_OCR for ocr, JOB_PROCESS_FILE for process-file. */
export const jobEnvPrefix = (name: string): string => `JOB_${name.toUpperCase().replace(/-/g, '_')}`;

/**
 * Each job's options: its definition's defaults, overridden by JOB_<NAME>_<KNOB>. Every bad
 * value is reported as an issue naming its key; the soft limit must stay below the hard one.
 */
export function parseJobOptions(
  env: Readonly<Record<string, string | undefined>>,
  jobs: readonly JobOptionSource[],
): { options: ReadonlyMap<JobName, JobOptions>; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const options = new Map<JobName, JobOptions>();
  for (const job of jobs) {
    const prefix = jobEnvPrefix(job.name);
    const base = defaultOptions(job.defaults);
    const set: Partial<Record<keyof JobOptions, number>> = {};
    for (const knob of JOB_KNOBS) {
      const key = `${prefix}_${knob.suffix}`;
      const raw = env[key]?.trim();
      if (raw === undefined || raw === '') continue;
      const value = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
      if (Number.isSafeInteger(value) && value >= knob.min && value <= knob.max) set[knob.option] = value;
      else issues.push({ key, message: `must be a whole number from ${knob.min} to ${knob.max}, got ${JSON.stringify(raw)}` });
    }
    const timeoutMs = set.timeoutMs ?? base.timeoutMs;
    // A new hard limit moves the default soft limit with it.
    const softTimeoutMs = set.softTimeoutMs ?? (set.timeoutMs !== undefined ? Math.floor(timeoutMs * 0.9) : base.softTimeoutMs);
    if (softTimeoutMs !== 0 && softTimeoutMs >= timeoutMs) {
      issues.push({ key: `${prefix}_SOFT_TIMEOUT_MS`, message: `must be below ${prefix}_TIMEOUT_MS (${timeoutMs} ms), got ${softTimeoutMs}` });
    }
    options.set(job.name, { ...base, ...set, timeoutMs, softTimeoutMs });
  }
  return { options, issues };
}

/**
 * The jobs a worker serves: WORKER_JOBS or `--jobs` (comma-separated names), or every job.
 * An unknown name is an issue listing the valid ones.
 */
export function parseServedJobs(
  raw: string | undefined,
  key: string,
  jobs: readonly JobOptionSource[],
): { served: readonly JobName[] | null; issues: ConfigIssue[] } {
  const value = raw?.trim();
  if (value === undefined || value === '' || value === '*' || value === 'all') return { served: null, issues: [] };
  const known = new Set<string>(jobs.map((j) => j.name));
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    return {
      served: null,
      issues: [{ key, message: `unknown job ${unknown.map((u) => JSON.stringify(u)).join(', ')}; valid jobs: ${[...known].join(', ')}` }],
    };
  }
  return { served: [...new Set(names)] as JobName[], issues: [] };
}

/** README rows for every job knob: key, default, meaning. */
export function jobOptionRows(jobs: readonly JobOptionSource[]): Array<{ key: string; default: string; description: string }> {
  const rows: Array<{ key: string; default: string; description: string }> = [];
  for (const job of jobs) {
    const base = defaultOptions(job.defaults);
    for (const knob of JOB_KNOBS) {
      rows.push({ key: `${jobEnvPrefix(job.name)}_${knob.suffix}`, default: String(base[knob.option]), description: `${job.name}: ${knob.doc}` });
    }
  }
  return rows;
}
