import type { FastifyInstance } from 'fastify';

import type { LineNotifier } from '../../notifiers/line.js';
import { ErrorCodes } from '../errors.js';
import type { NotifyHub } from '../notify/hub.js';
import type { Store } from '../store/types.js';

interface LineEvent {
  type?: string;
  replyToken?: string;
  source?: { type?: string; userId?: string };
  message?: { type?: string; text?: string };
}

const USER_ID = /^U[0-9a-f]{32}$/;

/**
 * POST /webhooks/line: LINE's calls to us. The signature over the raw body is the only
 * authentication (no API token). Handles account linking by one-time code, and follow /
 * unfollow (LINE accepts pushes to a user who blocked the bot but delivers nothing).
 */
export async function lineWebhookRoutes(app: FastifyInstance, deps: { store: Store; notify: NotifyHub }): Promise<void> {
  const line = deps.notify.notifiers.get('line') as LineNotifier | undefined;
  await app.register(async (scope) => {
    // The signature covers the exact bytes LINE sent: keep them.
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    scope.post('/webhooks/line', async (request, reply) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const signature = request.headers['x-line-signature'];
      if (!line || !line.verifyWebhook(raw, typeof signature === 'string' ? signature : undefined)) {
        return reply.code(401).send({ error: { code: ErrorCodes.UNAUTHORIZED, message: 'bad or missing X-Line-Signature' } });
      }
      let events: LineEvent[];
      try {
        events = ((JSON.parse(raw.toString('utf8')) as { events?: LineEvent[] }).events ?? []).slice(0, 100);
      } catch {
        return reply.code(400).send({ error: { code: ErrorCodes.BAD_REQUEST, message: 'body is not JSON' } });
      }
      for (const event of events) {
        const userId = event.source?.userId;
        if (!userId || !USER_ID.test(userId)) continue;
        if (event.type === 'follow' || event.type === 'unfollow') {
          await deps.store.owners.setLineFollowing(userId, event.type === 'follow');
          request.log.info({ event: event.type }, 'LINE follow state recorded');
        } else if (event.type === 'message' && event.message?.type === 'text') {
          const code = event.message.text?.trim() ?? '';
          if (!/^\d{8}$/.test(code)) continue;
          const ownerId = await deps.store.owners.consumeLinkCode(code, new Date());
          const answer = ownerId ? `Linked: you will get nightshift notifications for ${ownerId} here.` : 'That code is unknown or expired. Ask for a new one.';
          if (ownerId) {
            await deps.store.owners.setLineUser(ownerId, userId);
            request.log.info({ owner: ownerId }, 'LINE account linked');
          }
          if (event.replyToken) await line.reply(event.replyToken, answer);
        }
      }
      return reply.code(200).send({});
    });
  });
}
