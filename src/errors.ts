/**
 * The error catalog. Tests and API clients branch on `code`, never on message text.
 * Messages are written for a person: they say what happened and what to do about it.
 */
export const ErrorCodes = {
  CONFIG_INVALID: 'CONFIG_INVALID',
  NOT_FOUND: 'NOT_FOUND',
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** A signed link (`exp`/`sig`) that was altered, cut short, or made with another key: 403. */
  LINK_INVALID: 'LINK_INVALID',
  /** A signed link past its `exp` (LINK_TTL after the message was made): 403. */
  LINK_EXPIRED: 'LINK_EXPIRED',
  /** Without API_TOKEN: a Host that is not a loopback name, or a state-changing request from another site. */
  FORBIDDEN: 'FORBIDDEN',
  BAD_REQUEST: 'BAD_REQUEST',
  UPLOAD_TOO_LARGE: 'UPLOAD_TOO_LARGE',
  FILE_BUSY: 'FILE_BUSY',
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  EMPTY_FILE: 'EMPTY_FILE',
  CORRUPT_IMAGE: 'CORRUPT_IMAGE',
  IMAGE_TOO_LARGE: 'IMAGE_TOO_LARGE',
  UNSUPPORTED_TYPE: 'UNSUPPORTED_TYPE',
  STEP_TIMEOUT: 'STEP_TIMEOUT',
  PAYLOAD_INVALID: 'PAYLOAD_INVALID',
  /** A step's pool worker went past its heap limit (JOB_<NAME>_MAX_HEAP_MB); the attempt failed, the service did not. */
  STEP_OUT_OF_MEMORY: 'STEP_OUT_OF_MEMORY',
  ABORTED: 'ABORTED',
  STUCK: 'STUCK',
  BLOB_NOT_FOUND: 'BLOB_NOT_FOUND',
  INVALID_KEY: 'INVALID_KEY',
  MODEL_LOAD_FAILED: 'MODEL_LOAD_FAILED',
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
  /** A disk (the data directory, the blob directory, the database's) has no space left: 507. */
  STORAGE_FULL: 'STORAGE_FULL',
  /** A dependency named by a config key (DATABASE_URL, REDIS_URL, STORAGE_URL) cannot be reached at start-up. */
  CONNECT_FAILED: 'CONNECT_FAILED',
  RETRY_LATER: 'RETRY_LATER',
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class NightshiftError extends Error {
  readonly code: ErrorCode;
  /** HTTP status to answer with when this error reaches the API. */
  readonly status: number;
  constructor(code: ErrorCode, message: string, options?: { status?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NightshiftError';
    this.code = code;
    this.status = options?.status ?? 500;
  }
}

/**
 * Thrown by a job when retrying cannot help (corrupt input, unsupported type): the engine
 * wrapper marks the attempt as the last one instead of backing off.
 */
export class PermanentError extends NightshiftError {
  /** A brand, so the type is not structurally the same as every other NightshiftError. */
  readonly permanent = true;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, { status: 422, ...options });
    this.name = 'PermanentError';
  }
}

/**
 * Thrown by a job whose attempt failed for a reason that says when to come back (a rate
 * limit, a paused channel, a computed backoff): the engine retries after `retryAfterMs`.
 */
export class RetryLaterError extends NightshiftError {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number) {
    super(ErrorCodes.RETRY_LATER, message, { status: 503 });
    this.name = 'RetryLaterError';
    this.retryAfterMs = retryAfterMs;
  }
}

export function isPermanent(err: unknown): err is PermanentError {
  return err instanceof PermanentError;
}

/** The codes that mean "the user's file is bad", not "nightshift is broken". */
const USER_INPUT_CODES: ReadonlySet<ErrorCode> = new Set([
  ErrorCodes.EMPTY_FILE,
  ErrorCodes.CORRUPT_IMAGE,
  ErrorCodes.IMAGE_TOO_LARGE,
  ErrorCodes.UNSUPPORTED_TYPE,
]);

/**
 * A permanent failure caused by what a user uploaded (an empty, corrupt, oversized or unreadable
 * file): logged as one line without a stack, reported to the owner by `file.failed`, and not to
 * admins. A malformed job payload (PAYLOAD_INVALID) is not one: that is a bug or an operator's
 * mistake.
 */
export function isUserError(err: unknown): err is PermanentError {
  return isPermanent(err) && USER_INPUT_CODES.has(err.code);
}

/** Coerce anything thrown into an Error, at the boundary where it is caught. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'string') return new Error(value);
  try {
    return new Error(JSON.stringify(value));
  } catch {
    return new Error(String(value));
  }
}

export function errorCode(err: unknown): ErrorCode | undefined {
  return err instanceof NightshiftError ? err.code : undefined;
}
