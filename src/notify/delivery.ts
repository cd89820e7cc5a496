import type { Enqueue } from '../engine/job.js';
import type { ChannelName, DeliveryJobName } from './notifier.js';

const PREFIX = 'deliver-';

/** The delivery job of a channel: one per channel, so a slow or throttled channel (SMTP's rate limit) never holds up another. */
export function deliveryJobName(channel: ChannelName): DeliveryJobName {
  return `${PREFIX}${channel}`;
}

/** Is this job name a delivery job of one of these channels? */
export function isDeliveryJob(name: string, channels: readonly ChannelName[]): name is DeliveryJobName {
  return name.startsWith(PREFIX) && (channels as readonly string[]).includes(name.slice(PREFIX.length));
}

/**
 * Make sure a delivery job for this outbox row runs at `at` (now if absent). A unique upsert on
 * the notification id: safe to repeat, it never adds a second job. Rows only ever name
 * channels of the registry (routing and the API check them), and every registered channel has
 * its delivery job, configured or not (its job marks the row dead when it is not).
 */
export function scheduleDelivery(enqueue: Enqueue, notification: { readonly id: string; readonly channel: string }, at?: Date): Promise<void> {
  return enqueue(deliveryJobName(notification.channel as ChannelName), { notificationId: notification.id }, { runAt: at, uniqueBy: 'notificationId' });
}
