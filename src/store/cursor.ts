import { ErrorCodes, NightshiftError } from '../errors.js';
import type { ListFilesQuery } from './types.js';

/** Position after the last item of a page: its uploadedAt (epoch ms) and id. */
export interface PageKey {
  readonly uploadedAt: number;
  readonly id: string;
}

export function encodeCursor(key: PageKey): string {
  return Buffer.from(JSON.stringify([key.uploadedAt, key.id])).toString('base64url');
}

/** Throws BAD_REQUEST (400) for anything encodeCursor did not produce. */
export function decodeCursor(cursor: string): PageKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== 'number' || !Number.isSafeInteger(parsed[0]) || typeof parsed[1] !== 'string') {
    throw new NightshiftError(ErrorCodes.BAD_REQUEST, 'invalid cursor: pass back the nextCursor of the previous page unchanged', { status: 400 });
  }
  return { uploadedAt: parsed[0], id: parsed[1] };
}

/** Validates the limit and decodes the cursor, the same way for every store. */
export function parseListQuery(query: ListFilesQuery): { limit: number; after: PageKey | null } {
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > 500) {
    throw new NightshiftError(ErrorCodes.BAD_REQUEST, `limit must be an integer from 1 to 500, got ${query.limit}`, { status: 400 });
  }
  return { limit: query.limit, after: query.cursor === undefined ? null : decodeCursor(query.cursor) };
}
