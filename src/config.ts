import { join, resolve } from 'node:path';

import { z } from 'zod';

import { defaults } from '../config/defaults.js';
import { type LinkConfig, readLinkConfig } from './config/links.js';
import { ConfigError, type ConfigIssue, issuesOf, zBoolean, zodIssues } from './config/section.js';
import type { JobOptions } from './engine/options.js';
import { jobEnvPrefix, type JobOptionSource, parseJobOptions, parseServedJobs } from './engine/options.js';
import type { JobName } from './engine/payloads.js';
import type { NotifierDefinition } from './notify/notifier.js';
import { type ConfiguredNotifier, readNotifierConfigs } from './notify/registry.js';
import { type NotifyConfig, parseNotifyConfig } from './notify/rules.js';
import { parseSchedules, type PeriodicJobSource, type Schedule } from './schedules/spec.js';
import { isValidTimeZone } from './timezone.js';

export type Role = 'all' | 'api' | 'worker';
export type DatabaseKind = 'sqlite' | 'postgres' | 'mongodb';

export interface LocalStorageConfig {
  readonly kind: 'local';
  /** Absolute directory holding every blob. */
  readonly dir: string;
}
export interface S3StorageConfig {
  readonly kind: 's3';
  readonly bucket: string;
  /** Key prefix inside the bucket, '' or ending in '/'. */
  readonly prefix: string;
  readonly endpoint: string | undefined;
  readonly forcePathStyle: boolean;
  readonly region: string;
  readonly accessKeyId: string | undefined;
  readonly secretAccessKey: string | undefined;
}

export interface Config {
  readonly role: Role;
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly database:
    | { readonly kind: 'sqlite'; readonly path: string }
    | { readonly kind: 'postgres'; readonly url: string }
    | { readonly kind: 'mongodb'; readonly url: string };
  readonly redisUrl: string | undefined;
  readonly storage: LocalStorageConfig | S3StorageConfig;
  readonly apiToken: string | undefined;
  /** PUBLIC_URL without a trailing slash: the base of every link put in a message; unset: no links. */
  readonly publicUrl: string | undefined;
  /** Signed links (LINK_SIGNING_SECRET, LINK_TTL, LINK_MODE). */
  readonly links: LinkConfig;
  readonly maxUploadBytes: number;
  /** `file` parts one upload request may carry (MAX_UPLOAD_FILES). */
  readonly maxUploadFiles: number;
  /** Silence allowed mid-request before the socket is dropped, ms (HTTP_IDLE_TIMEOUT_MS). */
  readonly httpIdleTimeoutMs: number;
  /** Longest a whole request may take to arrive, ms (HTTP_REQUEST_TIMEOUT_MS). */
  readonly httpRequestTimeoutMs: number;
  readonly logLevel: string;
  readonly pollIntervalMs: number;
  readonly analyzeModelDir: string | undefined;
  readonly ocrLangs: readonly string[];
  readonly ocrLangDir: string | undefined;
  readonly maxImagePixels: number;
  readonly shutdownTimeoutMs: number;
  /** "HH:MM": each owner's daily summary goes out once their local time has passed this. */
  readonly summaryLocalTime: string;
  /** IANA timezone of the all-owners daily summary. */
  readonly summaryTimeZone: string;
  /** Seconds between two stats lines in worker roles. */
  readonly statsIntervalSeconds: number;
  /** LOG_FORMAT: json lines, pretty lines, or auto (pretty on a TTY). */
  readonly logFormat: 'json' | 'pretty' | 'auto';
  /** METRICS_TOKEN: Bearer token for GET /metrics (else API_TOKEN guards it, else loopback only). */
  readonly metricsToken: string | undefined;
  /** METRICS_PORT: a worker-only process serves /metrics and /healthz here; unset: none. */
  readonly metricsPort: number | undefined;
  /** MIN_FREE_BYTES: /readyz fails when the data or blob directory has less free space, bytes. */
  readonly minFreeBytes: number;
  /** ms between two heartbeats of a process in the workers registry; 3 missed beats make it stale. */
  readonly workerHeartbeatMs: number;
  /** One per periodic job (cleanup-stuck, daily-summary, quota-check); `every: null` is off. */
  readonly schedules: readonly Schedule[];
  /** Retention of what cleanup-stuck purges. */
  readonly retention: {
    /** Finished Agenda job records, days. */
    readonly jobsDays: number;
    /** Sent/dead delivery-log rows, days. */
    readonly notificationsDays: number;
    /** Minimum age of an orphaned blob before it is deleted, hours. */
    readonly orphanBlobHours: number;
  };
  /** Routing rules, admins, console fallback. */
  readonly notify: NotifyConfig;
  /** The notifiers whose config blocks are set (console always). */
  readonly notifiers: readonly ConfiguredNotifier[];
  /** Every registered job's options: its definition's defaults overridden by JOB_<NAME>_*. */
  readonly jobs: Readonly<Record<JobName, JobOptions>>;
  /** The jobs a worker process runs (WORKER_JOBS or --jobs); null: all of them. */
  readonly servedJobs: readonly JobName[] | null;
  /** OCR_MODE: auto = only images a cheap check finds text in; always; never. */
  readonly ocrMode: OcrMode;
  /** OCR_MIN_CONFIDENCE 0..100: text with a lower mean confidence is stored as "" with the reason. */
  readonly ocrMinConfidence: number;
  /** Worker pools of the CPU-heavy steps (src/pool), from JOB_<NAME>_… knobs. */
  readonly pools: Readonly<Record<string, StepPoolConfig>>;
}

/** What the config is read against: the definitions of the registry (src/registry.ts). */
export interface ConfigRegistry {
  readonly jobs: ReadonlyArray<JobOptionSource & PeriodicJobSource & { readonly step?: boolean }>;
  readonly notifiers: readonly NotifierDefinition[];
}

export interface ConfigOverrides {
  readonly role?: Role;
  /** `--jobs` from the command line; wins over WORKER_JOBS. */
  readonly jobs?: string | undefined;
}

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

const EnvSchema = z.object({
  PORT: int(0, 65535).default(defaults.PORT),
  HOST: z.string().min(1).default(defaults.HOST),
  DATA_DIR: z.string().min(1).default(defaults.DATA_DIR),
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^(postgres(ql)?|mongodb(\+srv)?|sqlite):/, 'must start with postgres://, mongodb:// or sqlite:')
      .optional(),
  ),
  REDIS_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis://')
      .optional(),
  ),
  STORAGE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^(s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?|file:.+)$/, 'must be s3://bucket[/prefix] or file:/dir')
      .optional(),
  ),
  S3_ENDPOINT: z.preprocess(emptyToUndefined, z.url().optional()),
  S3_FORCE_PATH_STYLE: zBoolean(defaults.S3_FORCE_PATH_STYLE),
  AWS_REGION: z.string().min(1).default(defaults.AWS_REGION),
  AWS_ACCESS_KEY_ID: optionalString,
  AWS_SECRET_ACCESS_KEY: optionalString,
  API_TOKEN: z.preprocess(emptyToUndefined, z.string().min(16, 'must be at least 16 characters').optional()),
  PUBLIC_URL: z.preprocess(emptyToUndefined, z.url().optional()),
  MAX_UPLOAD_BYTES: int(1).default(defaults.MAX_UPLOAD_BYTES),
  MAX_UPLOAD_FILES: int(1).default(defaults.MAX_UPLOAD_FILES),
  HTTP_IDLE_TIMEOUT_MS: int(100).default(defaults.HTTP_IDLE_TIMEOUT_MS),
  HTTP_REQUEST_TIMEOUT_MS: int(1_000).default(defaults.HTTP_REQUEST_TIMEOUT_MS),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default(defaults.LOG_LEVEL),
  POLL_INTERVAL_MS: int(50).default(defaults.POLL_INTERVAL_MS),
  ANALYZE_MODEL_DIR: optionalString,
  OCR_LANGS: z
    .string()
    .regex(/^[a-z_]{3,8}(\+[a-z_]{3,8})*$/, 'must be tesseract language codes joined by +')
    .default(defaults.OCR_LANGS),
  OCR_LANG_DIR: optionalString,
  MAX_IMAGE_PIXELS: int(1).default(defaults.MAX_IMAGE_PIXELS),
  SHUTDOWN_TIMEOUT_MS: int(0).default(defaults.SHUTDOWN_TIMEOUT_MS),
  SUMMARY_LOCAL_TIME: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h), e.g. 09:00')
    .default(defaults.SUMMARY_LOCAL_TIME),
  SUMMARY_TIMEZONE: z.string().refine(isValidTimeZone, 'must be an IANA timezone such as Asia/Tokyo').default(defaults.SUMMARY_TIMEZONE),
  STATS_INTERVAL_SECONDS: int(1, 3600).default(defaults.STATS_INTERVAL_SECONDS),
  WORKER_HEARTBEAT_MS: int(100, 600_000).default(defaults.WORKER_HEARTBEAT_MS),
  RETENTION_JOBS_DAYS: int(1, 36_500).default(defaults.RETENTION_JOBS_DAYS),
  RETENTION_NOTIFICATIONS_DAYS: int(1, 36_500).default(defaults.RETENTION_NOTIFICATIONS_DAYS),
  ORPHAN_BLOB_MIN_AGE_HOURS: int(1, 87_600).default(defaults.ORPHAN_BLOB_MIN_AGE_HOURS),
  WORKER_JOBS: optionalString,
  LOG_FORMAT: z.enum(['json', 'pretty', 'auto']).default(defaults.LOG_FORMAT),
  METRICS_TOKEN: z.preprocess(emptyToUndefined, z.string().min(16, 'must be at least 16 characters').optional()),
  METRICS_PORT: z.preprocess(emptyToUndefined, int(0, 65535).optional()),
  MIN_FREE_BYTES: int(0).default(defaults.MIN_FREE_BYTES),
});

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Validate the environment once against the registry's definitions and return a frozen
 * Config. Every section is checked before failing, and their issues are merged as data, so one
 * start-up names everything to fix (a ConfigError, code CONFIG_INVALID).
 */
export function parseConfig(env: Readonly<Record<string, string | undefined>>, registry: ConfigRegistry, overrides: ConfigOverrides = {}): Config {
  const role = overrides.role ?? 'all';
  const parsed = EnvSchema.safeParse(env);
  const issues: ConfigIssue[] = parsed.success ? [] : zodIssues(parsed.error);
  const section = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (err) {
      issues.push(...issuesOf(err));
      return undefined;
    }
  };
  const notify = section(() => parseNotifyConfig(env, registry.notifiers));
  const notifiers = section(() => readNotifierConfigs(env, registry.notifiers));
  const schedules = section(() => parseSchedules(env, registry.jobs));
  const jobOptions = parseJobOptions(env, registry.jobs);
  issues.push(...jobOptions.issues);
  const served =
    overrides.jobs !== undefined ? parseServedJobs(overrides.jobs, '--jobs', registry.jobs) : parseServedJobs(env.WORKER_JOBS, 'WORKER_JOBS', registry.jobs);
  issues.push(...served.issues);
  const steps = section(() => readStepPools(env, registry.jobs, jobOptions.options));
  const links =
    parsed.success && notifiers
      ? readLinkConfig(env, {
          apiToken: parsed.data.API_TOKEN,
          publicUrl: parsed.data.PUBLIC_URL,
          storageKind: parsed.data.STORAGE_URL?.startsWith('s3://') ? 's3' : 'local',
          httpsLinksFor: notifiers.flatMap((n) => (n.definition.httpsLinks ? [{ name: n.name, why: n.definition.httpsLinks }] : [])),
        })
      : undefined;
  issues.push(...(links?.issues ?? []));
  if (!parsed.success || !notify || !notifiers || !schedules || !steps || !links || issues.length > 0) throw new ConfigError(issues);
  const e = parsed.data;
  const dataDir = resolve(e.DATA_DIR);

  let database: Config['database'];
  const dbUrl = e.DATABASE_URL;
  if (dbUrl === undefined) database = { kind: 'sqlite', path: join(dataDir, 'nightshift.db') };
  else if (dbUrl.startsWith('sqlite:')) database = { kind: 'sqlite', path: resolve(dbUrl.slice('sqlite:'.length).replace(/^\/\//, '')) };
  else if (dbUrl.startsWith('mongodb')) database = { kind: 'mongodb', url: dbUrl };
  else database = { kind: 'postgres', url: dbUrl };

  let storage: Config['storage'];
  const su = e.STORAGE_URL;
  if (su?.startsWith('s3://')) {
    const rest = su.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    let prefix = slash === -1 ? '' : rest.slice(slash + 1);
    if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
    storage = {
      kind: 's3',
      bucket,
      prefix,
      endpoint: e.S3_ENDPOINT,
      forcePathStyle: e.S3_FORCE_PATH_STYLE,
      region: e.AWS_REGION,
      accessKeyId: e.AWS_ACCESS_KEY_ID,
      secretAccessKey: e.AWS_SECRET_ACCESS_KEY,
    };
  } else {
    storage = { kind: 'local', dir: su ? resolve(su.slice('file:'.length).replace(/^\/\//, '')) : join(dataDir, 'blobs') };
  }

  return deepFreeze<Config>({
    role,
    port: e.PORT,
    host: e.HOST,
    dataDir,
    database,
    redisUrl: e.REDIS_URL,
    storage,
    apiToken: e.API_TOKEN,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    links: links.config,
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    maxUploadFiles: e.MAX_UPLOAD_FILES,
    httpIdleTimeoutMs: e.HTTP_IDLE_TIMEOUT_MS,
    httpRequestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
    pollIntervalMs: e.POLL_INTERVAL_MS,
    analyzeModelDir: e.ANALYZE_MODEL_DIR === undefined ? undefined : resolve(e.ANALYZE_MODEL_DIR),
    ocrLangs: e.OCR_LANGS.split('+'),
    ocrLangDir: e.OCR_LANG_DIR === undefined ? undefined : resolve(e.OCR_LANG_DIR),
    maxImagePixels: e.MAX_IMAGE_PIXELS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    summaryLocalTime: e.SUMMARY_LOCAL_TIME,
    summaryTimeZone: e.SUMMARY_TIMEZONE,
    statsIntervalSeconds: e.STATS_INTERVAL_SECONDS,
    logFormat: e.LOG_FORMAT,
    metricsToken: e.METRICS_TOKEN,
    metricsPort: e.METRICS_PORT,
    minFreeBytes: e.MIN_FREE_BYTES,
    workerHeartbeatMs: e.WORKER_HEARTBEAT_MS,
    schedules,
    retention: {
      jobsDays: e.RETENTION_JOBS_DAYS,
      notificationsDays: e.RETENTION_NOTIFICATIONS_DAYS,
      orphanBlobHours: e.ORPHAN_BLOB_MIN_AGE_HOURS,
    },
    notify,
    notifiers,
    jobs: Object.fromEntries(jobOptions.options) as Record<JobName, JobOptions>,
    servedJobs: served.served,
    ...steps,
  });
}

// ---- Step pools and OCR: the knobs a processing step's worker pool has beyond every job's. ----

export type OcrMode = 'auto' | 'always' | 'never';

/** The worker pool of one processing step (src/pool). */
export interface StepPoolConfig {
  /** JOB_<NAME>_CONCURRENCY: worker threads, and runs at once (the engine's concurrency is the pool's size). */
  readonly size: number;
  /** JOB_<NAME>_MAX_HEAP_MB: V8 heap limit of each worker, MB. */
  readonly maxHeapMb: number;
  /** JOB_<NAME>_MAX_TASKS_PER_WORKER: a worker is replaced after this many tasks. */
  readonly maxTasksPerWorker: number;
  /** JOB_<NAME>_MAX_RSS_MB: a worker whose footprint passes this after a task is replaced. */
  readonly maxRssMb: number;
}

/** The pool knobs, with the env suffix and what they mean (the README table). */
export const POOL_KNOBS = [
  { option: 'maxHeapMb', suffix: 'MAX_HEAP_MB', min: 16, doc: 'heap limit of each pool worker (MB): past it the attempt fails with STEP_OUT_OF_MEMORY' },
  { option: 'maxTasksPerWorker', suffix: 'MAX_TASKS_PER_WORKER', min: 1, doc: 'a pool worker is replaced after this many tasks' },
  { option: 'maxRssMb', suffix: 'MAX_RSS_MB', min: 16, doc: 'a pool worker whose footprint passes this (MB) after a task is replaced' },
] as const satisfies ReadonlyArray<{ option: keyof StepPoolConfig; suffix: string; min: number; doc: string }>;

/** OCR_MODE, OCR_MIN_CONFIDENCE, and a pool per processing step of the registry sized by its concurrency. */
function readStepPools(
  env: Readonly<Record<string, string | undefined>>,
  jobs: ConfigRegistry['jobs'],
  options: ReadonlyMap<JobName, JobOptions>,
): Pick<Config, 'ocrMode' | 'ocrMinConfidence' | 'pools'> {
  const optionalInt = (min: number) => z.preprocess(emptyToUndefined, int(min).optional());
  const steps = jobs.filter((j) => j.step === true);
  const shape: Record<string, z.ZodType> = {
    OCR_MODE: z.enum(['auto', 'always', 'never']).default(defaults.OCR_MODE),
    OCR_MIN_CONFIDENCE: z.coerce.number().min(0).max(100).default(defaults.OCR_MIN_CONFIDENCE),
  };
  for (const j of steps) for (const k of POOL_KNOBS) shape[`${jobEnvPrefix(j.name)}_${k.suffix}`] = optionalInt(k.min);
  const parsed = z.object(shape).safeParse(env);
  if (!parsed.success) throw new ConfigError(zodIssues(parsed.error));
  const e = parsed.data as Record<string, unknown>;
  const num = (key: string) => e[key] as number | undefined;
  const base = { maxHeapMb: defaults.JOB_MAX_HEAP_MB, maxTasksPerWorker: defaults.JOB_MAX_TASKS_PER_WORKER, maxRssMb: defaults.JOB_MAX_RSS_MB };
  const pools: Record<string, StepPoolConfig> = {};
  for (const j of steps) {
    const pool: Record<string, number> = { size: options.get(j.name)?.concurrency ?? 1 };
    for (const k of POOL_KNOBS) pool[k.option] = num(`${jobEnvPrefix(j.name)}_${k.suffix}`) ?? base[k.option];
    pools[j.name] = pool as unknown as StepPoolConfig;
  }
  return { ocrMode: e.OCR_MODE as OcrMode, ocrMinConfidence: e.OCR_MIN_CONFIDENCE as number, pools };
}
