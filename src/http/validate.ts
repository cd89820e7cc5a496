import type { z } from 'zod';

import { ErrorCodes, NightshiftError } from '../errors.js';

/** Parse request input or answer 400 naming each bad field. */
export function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const msg = r.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ');
  throw new NightshiftError(ErrorCodes.BAD_REQUEST, msg, { status: 400 });
}

export function notFound(what: string, id: string): NightshiftError {
  return new NightshiftError(ErrorCodes.NOT_FOUND, `no ${what} with id ${id}`, { status: 404 });
}
