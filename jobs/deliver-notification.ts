import { z } from 'zod';

import { defineJob, type JobDefinition } from '../src/engine/job.js';
import { RetryLaterError } from '../src/errors.js';
import { deliveryJobName } from '../src/notify/delivery.js';
import type { ChannelName, DeliveryJobName, MessageItem, NotifierDefinition, NotifyEvent } from '../src/notify/notifier.js';
import { messageFromJson, renderDigest } from '../src/notify/render.js';

/** Attempts per notification (counted in the outbox row), then it is dead. */
export const MAX_DELIVERY_ATTEMPTS = 8;
const FIRST_RETRY_MS = 2_000;
const MAX_RETRY_MS = 60 * 60_000;
const SEND_TIMEOUT_MS = 30_000;

/**
 * Delivers one outbox row. The row, not Agenda, counts attempts and holds the backoff: a
 * failed attempt re-schedules this job at the row's next time, so a crash anywhere leaves a
 * row that the sweeper or the lease expiry brings back, and the idempotency id travels with
 * every attempt (LINE's retry key), so a re-send after a crash is not a second message.
 */
function defineDelivery(name: DeliveryJobName, concurrency: number): JobDefinition<DeliveryJobName> {
  return defineJob<DeliveryJobName>({
    name,
    description: `delivers one notification on ${name.slice('deliver-'.length)} (the outbox row counts attempts)`,
    payload: z.object({ notificationId: z.string().min(1).max(128) }).strict(),
    // The outbox row decides when a notification is dead (MAX_DELIVERY_ATTEMPTS); Agenda only
    // carries out the retries, so its own limit is set out of the way.
    defaults: { concurrency, attempts: 1_000, backoffMs: FIRST_RETRY_MS, timeoutMs: SEND_TIMEOUT_MS + 10_000 },
    async handler(ctx) {
      const { store, notify } = ctx.services;
      const now = new Date();
      const row = await store.outbox.claim(ctx.data.notificationId, now, SEND_TIMEOUT_MS + 20_000);
      if (!row) return; // sent, dead, not due yet, or another worker holds it
      const log = ctx.log.child({ channel: row.channel, event: row.event });
      // Agenda retries this same job at `at` (a job must not re-schedule itself: Agenda saves
      // the finished run's state over it).
      const reschedule = async (error: string, at: Date): Promise<never> => {
        await store.outbox.markFailed(row.id, error, at);
        throw new RetryLaterError(`${row.channel}: ${error}`, Math.max(0, at.getTime() - Date.now()));
      };

      const channel = row.channel as ChannelName;
      const notifier = notify.notifiers.get(channel);
      if (!notifier) {
        await store.outbox.markDead(row.id, `channel "${row.channel}" is not configured on this server`);
        return;
      }
      const pause = notify.pausedUntil(channel, now);
      if (pause) {
        // A pause is not the message's fault: give the attempt back by not counting it as a failure cause.
        return reschedule(`${channel} is paused until ${pause.toISOString()}`, pause);
      }

      const message = row.digestKey
        ? { ...renderDigest(row.event as NotifyEvent, (row.message.items as MessageItem[] | undefined) ?? []), id: row.id }
        : messageFromJson(row.id, row.message);
      const result = await notifier.send(message, row.recipient, ctx.signal);

      switch (result.status) {
        case 'delivered':
          await store.outbox.markSent(row.id, result.response ?? null, new Date());
          log.info({ recipient: row.recipient, attempts: row.attempts }, 'notification sent');
          return;
        case 'permanent':
          await store.outbox.markDead(row.id, result.error);
          log.warn({ error: result.error }, 'notification rejected for good');
          return;
        case 'retryable': {
          if (result.pauseChannelUntil) {
            notify.pauseChannel(channel, result.pauseChannelUntil);
            log.error({ until: result.pauseChannelUntil }, `${channel} paused: ${result.error}`);
            await notify.emit('job.failed', {
              jobName: `notifier:${channel}`,
              jobId: `paused-${result.pauseChannelUntil.toISOString()}`,
              attempts: row.attempts,
              error: `${channel} stopped sending until ${result.pauseChannelUntil.toISOString()}: ${result.error}`,
            });
            return reschedule(result.error, result.pauseChannelUntil);
          }
          if (row.attempts >= MAX_DELIVERY_ATTEMPTS) {
            await store.outbox.markDead(row.id, `gave up after ${row.attempts} attempts: ${result.error}`);
            log.warn({ error: result.error }, 'notification dead');
            return;
          }
          const backoff = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (row.attempts - 1));
          const delay = Math.max(result.retryAfterMs ?? 0, backoff);
          log.info({ error: result.error, delay }, 'notification attempt failed; will retry');
          return reschedule(result.error, new Date(Date.now() + delay));
        }
      }
    },
  });
}

/**
 * One delivery job per notifier of the registry, `deliver-<channel>`, with the notifier's own
 * `deliveryConcurrency` (see src/notify/delivery.ts). The composition root maps the registry here.
 */
export function deliveryJobs(notifiers: readonly Pick<NotifierDefinition, 'name' | 'deliveryConcurrency'>[]): JobDefinition<DeliveryJobName>[] {
  return notifiers.map((n) => defineDelivery(deliveryJobName(n.name), n.deliveryConcurrency));
}
