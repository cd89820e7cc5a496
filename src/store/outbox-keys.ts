import { createHash } from 'node:crypto';

import type { NewNotification } from './outbox-types.js';

// Fixed namespace so the same key gives the same id in every process and on every engine.
const NAMESPACE = Buffer.from('6e696768747368696674206f7574626f', 'hex');

/** A name-based (RFC 9562 version 5 layout) UUID for an idempotency key. */
export function uuidFromKey(key: string): string {
  const h = createHash('sha1').update(NAMESPACE).update(key, 'utf8').digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Digest rows are generations: the first row of a digest key is `create` as given; once it has
 * been claimed (closed), the next append opens generation n (n = rows of this digest key so far
 * + 1) with key `<create.key>#<n>` and the id derived from that key. So every generation has its
 * own idempotency key and id (LINE retry key), and re-running the nth generation's insert is
 * still idempotent.
 */
export function digestGeneration(create: NewNotification, generation: number): NewNotification {
  if (generation <= 1) return create;
  const key = `${create.key}#${generation}`;
  return { ...create, key, id: uuidFromKey(key) };
}

/** How many times an append retries after losing a race before giving up (each loss means progress by another caller). */
export const DIGEST_MAX_ROUNDS = 50;
