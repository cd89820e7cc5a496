import { ErrorCodes, NightshiftError } from '../errors.js';

/** Longest key accepted, in characters (keys are ASCII, so bytes too); S3 allows 1024 including the prefix. */
export const MAX_KEY_LENGTH = 900;
/** Longest segment: leaves room under the usual 255-byte file-name limit for the local store's suffixes. */
export const MAX_SEGMENT_LENGTH = 200;

const SEGMENT = /^[A-Za-z0-9._-]+$/;
const PARTIAL_SEGMENT = /^[A-Za-z0-9._-]*$/;

function invalid(what: string, value: string, why: string): NightshiftError {
  // JSON.stringify makes control characters visible in the message instead of corrupting the log line.
  return new NightshiftError(ErrorCodes.INVALID_KEY, `invalid blob ${what} ${JSON.stringify(value)}: ${why}`, { status: 400 });
}

function checkSegment(what: string, value: string, segment: string): void {
  if (segment === '') throw invalid(what, value, 'empty path segment (leading, trailing or doubled "/")');
  if (segment === '.' || segment === '..') throw invalid(what, value, `"${segment}" segments are not allowed`);
  if (!SEGMENT.test(segment)) throw invalid(what, value, 'segments may only contain A-Z a-z 0-9 . _ -');
  if (segment.length > MAX_SEGMENT_LENGTH) throw invalid(what, value, `a segment is longer than ${MAX_SEGMENT_LENGTH} characters`);
}

/** True when `name` could be one segment of a key (used to skip temp and sidecar files). */
export function isValidSegment(name: string): boolean {
  return name !== '.' && name !== '..' && name.length <= MAX_SEGMENT_LENGTH && SEGMENT.test(name);
}

function checkCommon(what: string, value: unknown): string {
  if (typeof value !== 'string') throw invalid(what, String(value), 'not a string');
  if (value.length > MAX_KEY_LENGTH) throw invalid(what, value.slice(0, 40) + '…', `longer than ${MAX_KEY_LENGTH} characters`);
  if (value.startsWith('/')) throw invalid(what, value, 'absolute paths are not allowed');
  if (value.includes('\\')) throw invalid(what, value, 'backslashes are not allowed');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw invalid(what, value, 'control characters are not allowed');
  return value;
}

/**
 * Throw INVALID_KEY unless `key` is a relative path of `[A-Za-z0-9._-]` segments joined by `/`,
 * with no empty, `.` or `..` segment. Returns the key for chaining.
 */
export function assertValidKey(key: string): string {
  checkCommon('key', key);
  if (key === '') throw invalid('key', key, 'empty key');
  for (const segment of key.split('/')) checkSegment('key', key, segment);
  return key;
}

/**
 * A list prefix is any leading part of a valid key: '' (everything), whole segments ending in
 * '/', or whole segments followed by the start of a segment (`thumbs/ab` matches `thumbs/abc/1`).
 */
export function assertValidPrefix(prefix: string): string {
  checkCommon('prefix', prefix);
  if (prefix === '') return prefix;
  const segments = prefix.split('/');
  const last = segments.pop() ?? '';
  for (const segment of segments) checkSegment('prefix', prefix, segment);
  if (!PARTIAL_SEGMENT.test(last)) throw invalid('prefix', prefix, 'segments may only contain A-Z a-z 0-9 . _ -');
  return prefix;
}

export function isValidKey(key: string): boolean {
  try {
    assertValidKey(key);
    return true;
  } catch {
    return false;
  }
}

/** Where file blobs live, and how a key names its file: originals/<id>, thumbnails/<id>.webp. */
export const FILE_BLOB_PREFIXES = ['originals/', 'thumbnails/'] as const;

/** The file a blob key belongs to, or undefined for a key that is no file's blob. */
export function fileIdOfKey(key: string): string | undefined {
  for (const prefix of FILE_BLOB_PREFIXES) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    if (rest === '' || rest.includes('/')) return undefined;
    return prefix === 'thumbnails/' ? rest.replace(/\.[^.]+$/, '') : rest;
  }
  return undefined;
}

/** Blob key of a file's original upload. The one place that names where originals live. */
export function originalKey(fileId: string): string {
  return assertValidKey(`originals/${fileId}`);
}

/** Blob key of a file's thumbnail. */
export function thumbnailKey(fileId: string): string {
  return assertValidKey(`thumbnails/${fileId}.webp`);
}

/** Every key a file's blobs can have (original and derived): what deleting the file removes. */
export function fileBlobKeys(fileId: string): string[] {
  return [originalKey(fileId), thumbnailKey(fileId)];
}
