import { defineJob } from '../src/engine/job.js';
import { messageFromJson, renderDigest } from '../src/notify/render.js';
import type { ChannelName, MessageItem, NotifyEvent } from '../src/notify/notifier.js';

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
export default defineJob({
  name: 'deliver-notification',
  concurrency: 10,
  // Agenda retries only infrastructure failures (the store unreachable); send failures are handled below.
  attempts: 5,
  backoffMs: 5_000,
  timeoutMs: SEND_TIMEOUT_MS + 10_000,
  async handler(ctx) {
    const { store, notify, enqueue } = ctx.services;
    const now = new Date();
    const row = await store.outbox.claim(ctx.data.notificationId, now, SEND_TIMEOUT_MS + 20_000);
    if (!row) return; // sent, dead, not due yet, or another worker holds it
    const log = ctx.log.child({ notificationId: row.id, channel: row.channel, event: row.event });
    const reschedule = async (error: string, at: Date) => {
      await store.outbox.markFailed(row.id, error, at);
      await enqueue('deliver-notification', { notificationId: row.id }, { runAt: at, uniqueBy: 'notificationId' });
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
      await reschedule(`${channel} is paused until ${pause.toISOString()}`, pause);
      return;
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
          await reschedule(result.error, result.pauseChannelUntil);
          return;
        }
        if (row.attempts >= MAX_DELIVERY_ATTEMPTS) {
          await store.outbox.markDead(row.id, `gave up after ${row.attempts} attempts: ${result.error}`);
          log.warn({ error: result.error }, 'notification dead');
          return;
        }
        const backoff = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (row.attempts - 1));
        const delay = Math.max(result.retryAfterMs ?? 0, backoff);
        log.info({ error: result.error, delay }, 'notification attempt failed; will retry');
        await reschedule(result.error, new Date(Date.now() + delay));
        return;
      }
    }
  },
});
