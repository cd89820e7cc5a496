import { createHash } from 'node:crypto';

import type { NewNotification } from './outbox-types.js';

/**
 * The one way to mint an outbox id: a UUID-shaped id derived from the idempotency key, so the
 * same key gives the same id in every process and on every store (it is LINE's retry key).
 */
export function notificationId(key: string): string {
  const h = createHash('sha256').update(key).digest('hex');
  // Version 4 / variant bits set, so strict UUID validators (LINE's) accept it.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The idempotency key of one notification: one event about one subject to one recipient on one channel. */
export function notificationKey(event: string, subject: string, channel: string, recipient: string): string {
  return `${event}|${subject}|${channel}|${recipient}`;
}

/** The key of the digest that collects an event's messages to one recipient on one channel. */
export function digestKeyOf(event: string, channel: string, recipient: string): string {
  return `digest|${event}|${channel}|${recipient}`;
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
  return { ...create, key, id: notificationId(key) };
}

/** How many times an append retries after losing a race before giving up (each loss means progress by another caller). */
export const DIGEST_MAX_ROUNDS = 50;
