import type { Enqueue, JobName } from '../engine/job.js';
import type { ChannelName } from './notifier.js';

/** One delivery job name per channel: Agenda's concurrency is per name, so a slow or throttled channel (SMTP's rate limit) never holds up another. */
export const DELIVERY_JOBS = {
  line: 'deliver-line',
  email: 'deliver-email',
  webhook: 'deliver-webhook',
  console: 'deliver-console',
} as const satisfies Record<ChannelName, JobName>;

export type DeliveryJobName = (typeof DELIVERY_JOBS)[ChannelName];

export function isDeliveryJob(name: string): name is DeliveryJobName {
  return (Object.values(DELIVERY_JOBS) as string[]).includes(name);
}

/**
 * Make sure a delivery job for this outbox row runs at `at` (now if absent). A unique upsert on
 * the notification id: safe to repeat, it never adds a second job.
 */
export function scheduleDelivery(enqueue: Enqueue, notification: { readonly id: string; readonly channel: string }, at?: Date): Promise<void> {
  const name = DELIVERY_JOBS[notification.channel as ChannelName] ?? DELIVERY_JOBS.console;
  return enqueue(name, { notificationId: notification.id }, { runAt: at, uniqueBy: 'notificationId' });
}
