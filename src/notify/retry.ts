import type { Enqueue } from '../engine/payloads.js';
import type { NotificationRecord } from '../store/outbox-types.js';
import type { Store } from '../store/types.js';
import { scheduleDelivery } from './delivery.js';

export type RetryOutcome = { readonly retried: NotificationRecord } | { readonly missing: true } | { readonly notDead: NotificationRecord };

/** Send a dead notification again: dead → queued (attempts reset) and its delivery job enqueued. */
export async function retryNotification(store: Store, enqueue: Enqueue, id: string, now = new Date()): Promise<RetryOutcome> {
  if (!(await store.outbox.requeue(id, now))) {
    const n = await store.outbox.get(id);
    return n ? { notDead: n } : { missing: true };
  }
  const n = await store.outbox.get(id);
  if (!n) return { missing: true };
  await scheduleDelivery(enqueue, n);
  return { retried: n };
}

export interface DeadFilter {
  readonly event?: string | undefined;
  readonly channel?: string | undefined;
  readonly owner?: string | undefined;
}

/** Retry every dead notification matching the filter; returns how many were queued again. */
export async function retryDeadNotifications(
  store: Store,
  enqueue: Enqueue,
  filter: DeadFilter,
  onProgress?: (done: number, total: number) => void,
): Promise<number> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.outbox.list({ ...filter, status: 'dead', limit: 500, cursor });
    ids.push(...page.items.map((n) => n.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  let retried = 0;
  for (const [i, id] of ids.entries()) {
    if ('retried' in (await retryNotification(store, enqueue, id))) retried++;
    onProgress?.(i + 1, ids.length);
  }
  return retried;
}
