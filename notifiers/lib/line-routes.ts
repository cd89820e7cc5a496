import { randomInt } from 'node:crypto';

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import { ErrorCodes } from '../../src/errors.js';
import { OWNER } from '../../src/http/files.js';
import { notFound, parse } from '../../src/http/validate.js';
import type { Notifier, NotifierRouteDeps } from '../../src/notify/notifier.js';
import type { SendResult } from '../../src/notify/notifier.js';

/** The LINE notifier as its routes use it (see LineNotifier in ../line.ts). */
interface LineWebhookNotifier extends Notifier {
  verifyWebhook(rawBody: Buffer, signatureHeader: string | undefined): boolean;
  reply(replyToken: string, text: string, signal?: AbortSignal): Promise<SendResult>;
}

interface LineEvent {
  type?: string;
  replyToken?: string;
  source?: { type?: string; userId?: string };
  message?: { type?: string; text?: string };
}

const USER_ID = /^U[0-9a-f]{32}$/;
const LINK_CODE_TTL_MS = 15 * 60_000;

/**
 * POST /webhooks/line: LINE's calls to us. The signature over the raw body is the only
 * authentication (no API token). Handles account linking by one-time code, and follow /
 * unfollow (LINE accepts pushes to a user who blocked the bot but delivers nothing).
 */
export async function lineWebhookRoutes(app: FastifyInstance, deps: NotifierRouteDeps): Promise<void> {
  const line = deps.notifier as LineWebhookNotifier | undefined;
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

/** POST /api/v1/owners/:id/line-link: a one-time code the owner sends to the bot to link their LINE account. */
export function lineLinkRoutes(app: FastifyInstance, deps: NotifierRouteDeps): void {
  const { store } = deps;
  const params = z.object({ id: OWNER });
  app.post('/owners/:id/line-link', async (request, reply) => {
    const { id } = parse(params, request.params);
    if (!(await store.owners.get(id))) throw notFound('owner', id);
    // Eight digits: easy to type into LINE, and a code lives only 15 minutes and works once.
    const code = String(randomInt(10_000_000, 100_000_000));
    const expiresAt = new Date(Date.now() + LINK_CODE_TTL_MS);
    await store.owners.createLinkCode(id, code, expiresAt);
    return reply.code(201).send({ code, expiresAt: expiresAt.toISOString(), instructions: `Send "${code}" to the nightshift LINE bot within 15 minutes.` });
  });
}
