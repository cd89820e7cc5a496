/**
 * Every default nightshift has, in one place. Environment variables override these
 * (see the configuration table in the README); src/config.ts validates the result once.
 */
export const defaults = {
  PORT: 3000,
  HOST: '127.0.0.1',
  DATA_DIR: './data',
  /** Unset: embedded SQLite at DATA_DIR/nightshift.db. */
  DATABASE_URL: undefined,
  REDIS_URL: undefined,
  /** Unset: local directory DATA_DIR/blobs. `s3://bucket[/prefix]` for S3 or MinIO. */
  STORAGE_URL: undefined,
  S3_ENDPOINT: undefined,
  S3_FORCE_PATH_STYLE: false,
  AWS_REGION: 'us-east-1',
  API_TOKEN: undefined,
  /** Public base URL of this service, used to build thumbnail links in API answers and messages. */
  PUBLIC_URL: undefined,
  /** Signed links in messages expire this long after the message was made (LINK_TTL: `7d`, `12h`, ms). */
  LINK_TTL_MS: 7 * 24 * 3_600_000,
  /** `signed` (links to nightshift) or `presigned` (S3 presigned URLs for thumbnails and originals). */
  LINK_MODE: 'signed',
  MAX_UPLOAD_BYTES: 50 * 1024 * 1024,
  /** Files (`file` parts) one upload request may carry; each becomes a file of its own. */
  MAX_UPLOAD_FILES: 20,
  /** A client silent this long while sending headers or a body (an upload, a webhook) is dropped (ms). */
  HTTP_IDLE_TIMEOUT_MS: 10_000,
  /** Longest a whole request (headers and body) may take to arrive, however steadily it trickles (ms). */
  HTTP_REQUEST_TIMEOUT_MS: 300_000,
  LOG_LEVEL: 'info',
  /** `json`, `pretty` (one readable line per event) or `auto`: pretty when stdout is a terminal. */
  LOG_FORMAT: 'auto',
  /** Bearer token for GET /metrics; unset: API_TOKEN guards it, or it is open on loopback. */
  METRICS_TOKEN: undefined,
  /** A worker-only process serves /metrics and /healthz on this port; unset: it serves none. */
  METRICS_PORT: undefined,
  /** /readyz fails when DATA_DIR or the local blob directory has less free space than this (bytes). */
  MIN_FREE_BYTES: 50 * 1024 * 1024,
  /** How often an idle worker polls when no wake-up arrives (ms). Wake-ups make new jobs start at once. */
  POLL_INTERVAL_MS: 5_000,
  /** Optional directory with a tfjs graph/layers model (model.json) and labels.txt / labels.json. */
  ANALYZE_MODEL_DIR: undefined,
  /** Tesseract languages, `+`-joined. `eng` ships offline with the package. */
  OCR_LANGS: 'eng',
  /** Directory of extra *.traineddata(.gz) files for languages other than eng. */
  OCR_LANG_DIR: undefined,
  /** OCR on every image (always), on none (never), or on those a cheap check finds text in (auto). */
  OCR_MODE: 'auto',
  /** OCR text whose mean confidence (0..100) is below this is stored as "" with the reason, never sent. */
  OCR_MIN_CONFIDENCE: 60,
  /** Step pools (JOB_<ANALYZE|THUMBNAIL|OCR>_…): V8 heap limit of one worker thread, MB. */
  JOB_MAX_HEAP_MB: 1024,
  /** A step's worker thread is replaced after this many tasks. */
  JOB_MAX_TASKS_PER_WORKER: 200,
  /** A step's worker thread whose memory (heap + ArrayBuffers + WebAssembly) passes this, MB, is replaced. */
  JOB_MAX_RSS_MB: 1536,
  /** Largest decoded image, in pixels, any step will open (decompression-bomb guard). */
  MAX_IMAGE_PIXELS: 100_000_000,
  /** How long a stop waits for running jobs before giving up (ms). Keep under the container grace period. */
  SHUTDOWN_TIMEOUT_MS: 20_000,
  /** Local time ("HH:MM", 24 h) after which each owner's daily summary is sent, in the owner's own timezone. */
  SUMMARY_LOCAL_TIME: '09:00',
  /** IANA timezone of the all-owners (admin) daily summary. */
  SUMMARY_TIMEZONE: 'UTC',
  /** Seconds between two stats log lines of a worker (in-process timer, not persisted). */
  STATS_INTERVAL_SECONDS: 30,
  /** How often every process refreshes its row in the workers registry (ms); three missed beats make it stale. */
  WORKER_HEARTBEAT_MS: 5_000,
  /**
   * Timezone periodic jobs' cron is read in (SCHEDULE_<JOB>_TIMEZONE per job). Each periodic job's
   * default schedule is in its definition in jobs/; SCHEDULE_<JOB> overrides it (cron, ms,
   * "15 minutes", or `off`).
   */
  SCHEDULE_TIMEZONE: 'UTC',
  /** Finished Agenda job records older than this are purged by cleanup-stuck (days). */
  RETENTION_JOBS_DAYS: 7,
  /** Sent/dead delivery-log rows older than this are purged by cleanup-stuck (days). */
  RETENTION_NOTIFICATIONS_DAYS: 30,
  /** A blob with no file record is purged once it is older than this (hours). */
  ORPHAN_BLOB_MIN_AGE_HOURS: 24,
} as const;
