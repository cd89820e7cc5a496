import { ErrorCodes, NightshiftError } from '../errors.js';

export function blobNotFound(key: string, cause?: unknown): NightshiftError {
  return new NightshiftError(ErrorCodes.BLOB_NOT_FOUND, `no blob at key ${JSON.stringify(key)}`, { status: 404, cause });
}

export function putAborted(key: string, cause?: unknown): NightshiftError {
  return new NightshiftError(ErrorCodes.ABORTED, `writing blob ${JSON.stringify(key)} was aborted; nothing was stored`, { cause });
}

export function storageUnavailable(what: string, cause: unknown): NightshiftError {
  const reason = cause instanceof Error ? cause.message || cause.name : String(cause);
  return new NightshiftError(ErrorCodes.STORE_UNAVAILABLE, `${what} is not usable: ${reason}`, { status: 503, cause });
}
