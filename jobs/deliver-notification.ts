import { z } from 'zod';

import { defineJob, type JobDefinition } from '../src/engine/job.js';
import { RetryLaterError } from '../src/errors.js';
import { nextRetry } from '../src/notify/backoff.js';
import { deliveryJobName, scheduleDelivery } from '../src/notify/delivery.js';
import type { ChannelName, DeliveryJobName, MessageItem, NotifierDefinition, NotifyEvent } from '../src/notify/notifier.js';
import { messageFromJson, renderDigest } from '../src/notify/render.js';

const FIRST_RETRY_MS = 2_000;
const SEND_TIMEOUT_MS = 30_000;
/** Rows woken at once when a channel is back; the next retried success wakes the rest. */
const WAKE_BATCH = 1_000;

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
    // The outbox row decides when a notification is dead (its retry window, NOTIFY_RETRY_FOR);
    // Agenda only carries out the retries, so its own limit is set out of the way (the default
    // schedule makes ~35 attempts a day; past 1000 the sweeper still re-schedules the due row).
    defaults: { concurrency, attempts: 1_000, backoffMs: FIRST_RETRY_MS, timeoutMs: SEND_TIMEOUT_MS + 10_000 },
    async handler(ctx) {
      const { store, notify, config, enqueue } = ctx.services;
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
        case 'delivered': {
          await store.outbox.markSent(row.id, result.response ?? null, new Date());
          log.info({ recipient: row.recipient, attempts: row.attempts }, 'notification sent');
          if (row.attempts > 1) {
            // A retried message went through: the channel is back. What waits for a later retry
            // goes now, oldest first (a job each, 1 ms apart: workers take due jobs by time), at
            // the pace of the channel's delivery concurrency and rate limit.
            const woken = await store.outbox.wake(row.channel, new Date(), WAKE_BATCH);
            const at = Date.now();
            for (const [i, w] of woken.entries()) await scheduleDelivery(enqueue, w, new Date(at + i));
            if (woken.length > 0) log.info({ count: woken.length }, `${channel} is back: waiting notifications released`);
          }
          return;
        }
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
          const next = nextRetry(config.notify.retry, row.attempts, row.firstAttemptAt ?? now, new Date(), result.retryAfterMs);
          if ('giveUp' in next) {
            await store.outbox.markDead(row.id, `${next.giveUp}: ${result.error}`);
            log.warn({ error: result.error, attempts: row.attempts }, 'notification dead');
            return;
          }
          log.info({ error: result.error, attempts: row.attempts, retryAt: next.at }, 'notification attempt failed; will retry');
          return reschedule(result.error, next.at);
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
