import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import type { Enqueue } from '../engine/job.js';
import { ErrorCodes, NightshiftError } from '../errors.js';
import type { NotifyHub } from '../notify/hub.js';
import type { ChannelName } from '../notify/notifier.js';
import { retryNotification } from '../notify/retry.js';
import type { NotificationRecord } from '../store/outbox-types.js';
import type { Store } from '../store/types.js';
import { routeSchema } from './schema.js';
import { notFound, parse } from './validate.js';

/** The query and test-body schemas, with the channel enum from the registry's names. */
function schemas(channels: readonly ChannelName[]) {
  const channel = z.enum(channels as [ChannelName, ...ChannelName[]]);
  return {
    Query: z.object({
      status: z.enum(['queued', 'sent', 'failed', 'dead']).optional(),
      event: z.string().max(64).optional(),
      channel: channel.optional(),
      owner: z.string().max(128).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(50),
      cursor: z.string().max(512).optional(),
    }),
    TestBody: z.object({ channel, recipient: z.string().min(1).max(320) }).strict(),
  };
}

/** The delivery log entry as the API shows it: the message without attachment bytes. */
export function presentNotification(n: NotificationRecord) {
  const { attachments, ...message } = n.message as { attachments?: Array<{ filename: string; contentType: string }> };
  return {
    id: n.id,
    event: n.event,
    channel: n.channel,
    recipient: n.recipient,
    owner: n.owner,
    status: n.status,
    attempts: n.attempts,
    lastError: n.lastError,
    response: n.response,
    digest: n.digestKey !== null,
    notBefore: n.notBefore.toISOString(),
    createdAt: n.createdAt.toISOString(),
    updatedAt: n.updatedAt.toISOString(),
    sentAt: n.sentAt?.toISOString() ?? null,
    message: { ...message, attachments: attachments?.map((a) => ({ filename: a.filename, contentType: a.contentType })) },
  };
}

export function notificationRoutes(app: FastifyInstance, deps: { store: Store; notify: NotifyHub; enqueue: Enqueue; channels: readonly ChannelName[] }): void {
  const { store, notify, enqueue } = deps;
  const { Query, TestBody } = schemas(deps.channels);
  const tags = ['notifications'];
  const Id = z.object({ id: z.string().max(64) });

  app.get('/notifications', { schema: routeSchema({ summary: 'The delivery log', tags, querystring: Query }) }, async (request) => {
    const q = parse(Query, request.query);
    const page = await store.outbox.list(q);
    return { items: page.items.map(presentNotification), nextCursor: page.nextCursor };
  });

  app.get('/notifications/:id', { schema: routeSchema({ summary: 'One notification', tags, params: Id }) }, async (request) => {
    const { id } = parse(Id, request.params);
    const n = await store.outbox.get(id);
    if (!n) throw notFound('notification', id);
    return presentNotification(n);
  });

  app.post('/notifications/:id/retry', { schema: routeSchema({ summary: 'Retry a dead notification', tags, params: Id }) }, async (request, reply) => {
    const { id } = parse(Id, request.params);
    const outcome = await retryNotification(store, enqueue, id);
    if ('missing' in outcome) throw notFound('notification', id);
    if ('notDead' in outcome)
      throw new NightshiftError(ErrorCodes.FILE_BUSY, `notification ${id} is not dead; only dead notifications can be retried`, { status: 409 });
    return reply.code(202).send(presentNotification(outcome.retried));
  });

  app.post('/notifications/test', { schema: routeSchema({ summary: 'Send a test message', tags, body: TestBody }) }, async (request, reply) => {
    const body = parse(TestBody, request.body ?? {});
    if (!notify.channels.has(body.channel)) {
      throw new NightshiftError(ErrorCodes.BAD_REQUEST, `channel "${body.channel}" is not configured (configured: ${[...notify.channels].join(', ')})`, {
        status: 400,
      });
    }
    return reply.code(202).send(presentNotification(await notify.sendTest(body.channel, body.recipient)));
  });
}
