import { randomInt } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';

import { ErrorCodes, NightshiftError } from '../../src/errors.js';
import { OWNER } from '../../src/http/files.js';
import { notFound, parse } from '../../src/http/validate.js';
import type { Notifier, NotifierRouteDeps } from '../../src/notify/notifier.js';
import type { SendResult } from '../../src/notify/notifier.js';
import type { LineSignatureCheck } from './line-signature.js';
import { LINE_BODY_LIMITS, type LineBodyLimits, readSignedBody, refuseBeforeBody } from './line-webhook-body.js';

/** The LINE notifier as its routes use it (see LineNotifier in ../line.ts). */
interface LineWebhookNotifier extends Notifier {
  startWebhookCheck(signatureHeader: string | undefined): LineSignatureCheck | undefined;
  reply(replyToken: string, text: string, signal?: AbortSignal): Promise<SendResult>;
}

/** The fields of a LINE webhook event nightshift reads (@line/bot-sdk's webhook.Event). */
interface LineEvent {
  type?: string;
  /** A ULID that identifies the event; the same on every redelivery. */
  webhookEventId?: string;
  /** When the event happened, epoch ms. */
  timestamp?: number;
  deliveryContext?: { isRedelivery?: boolean };
  replyToken?: string;
  source?: { type?: string; userId?: string };
  message?: { type?: string; text?: string };
}

const USER_ID = /^U[0-9a-f]{32}$/;
const EVENT_ID = /^[0-9A-Za-z]{1,64}$/;
const LINK_CODE_TTL_MS = 15 * 60_000;
/** How long applied webhookEventIds are remembered; older replays are stopped by the owner's last event time. */
export const LINE_EVENT_RETENTION_MS = 7 * 24 * 3_600_000;

/**
 * POST /webhooks/line: LINE's calls to us. The signature over the raw body is the only
 * authentication (no API token): a request without a well-formed X-Line-Signature is refused
 * before its body is read, and the body is checked as it streams (LINE_BODY_LIMITS). Handles
 * account linking by one-time code, and follow / unfollow (LINE accepts pushes to a user who
 * blocked the bot but delivers nothing). Each event applies once: its webhookEventId is
 * recorded, and an event older than the owner's last applied one (a replay) changes nothing.
 */
export async function lineWebhookRoutes(app: FastifyInstance, deps: NotifierRouteDeps, limits: LineBodyLimits = LINE_BODY_LIMITS): Promise<void> {
  const line = deps.notifier as LineWebhookNotifier | undefined;
  const checks = new WeakMap<object, LineSignatureCheck>();
  await app.register(async (scope) => {
    scope.addHook('onRequest', async (request) => {
      if (request.method !== 'POST') return;
      const header = request.headers['x-line-signature'];
      const check = line?.startWebhookCheck(typeof header === 'string' ? header : undefined);
      const refused = refuseBeforeBody(request, check, limits);
      if (refused) throw refused;
      if (check) checks.set(request.raw, check);
    });
    // The signature covers the exact bytes LINE sent: they are checked as they arrive.
    scope.addContentTypeParser('application/json', (request: FastifyRequest, payload: IncomingMessage) => {
      const check = checks.get(request.raw);
      if (!check) return Promise.reject(new NightshiftError(ErrorCodes.UNAUTHORIZED, 'bad or missing X-Line-Signature', { status: 401 }));
      return readSignedBody(payload, check, limits);
    });

    scope.post('/webhooks/line', async (request, reply) => {
      // Only a body whose signature matched gets here (an empty one has no content type: refuse it).
      if (!line || !Buffer.isBuffer(request.body)) {
        return reply.code(401).send({ error: { code: ErrorCodes.UNAUTHORIZED, message: 'bad or missing X-Line-Signature' } });
      }
      let events: LineEvent[];
      try {
        events = ((JSON.parse(request.body.toString('utf8')) as { events?: LineEvent[] }).events ?? []).slice(0, 100);
      } catch {
        return reply.code(400).send({ error: { code: ErrorCodes.BAD_REQUEST, message: 'body is not JSON' } });
      }
      for (const event of events) {
        const userId = event.source?.userId;
        if (!userId || !USER_ID.test(userId)) continue;
        const id = typeof event.webhookEventId === 'string' && EVENT_ID.test(event.webhookEventId) ? event.webhookEventId : undefined;
        if (id !== undefined && !(await deps.store.owners.claimLineEvent(id, new Date(), LINE_EVENT_RETENTION_MS))) {
          request.log.info(
            { webhookEventId: id, event: event.type, redelivery: event.deliveryContext?.isRedelivery === true },
            'LINE event already applied: ignored',
          );
          continue;
        }
        try {
          await applyEvent(event, userId, line, deps, request.log);
        } catch (err) {
          // Not applied: LINE's redelivery of this event must be.
          if (id !== undefined) await deps.store.owners.releaseLineEvent(id).catch(() => undefined);
          throw err;
        }
      }
      return reply.code(200).send({});
    });
  });
}

async function applyEvent(event: LineEvent, userId: string, line: LineWebhookNotifier, deps: NotifierRouteDeps, log: FastifyBaseLogger): Promise<void> {
  const at = typeof event.timestamp === 'number' && Number.isFinite(event.timestamp) ? new Date(event.timestamp) : undefined;
  if (event.type === 'follow' || event.type === 'unfollow') {
    const changed = await deps.store.owners.setLineFollowing(userId, event.type === 'follow', at);
    if (changed > 0) log.info({ event: event.type }, 'LINE follow state recorded');
    else if (at && (await deps.store.owners.findByLineUserId(userId))) log.info({ event: event.type }, 'LINE event older than the last one applied: ignored');
  } else if (event.type === 'message' && event.message?.type === 'text') {
    const code = event.message.text?.trim() ?? '';
    if (!/^\d{8}$/.test(code)) return;
    const ownerId = await deps.store.owners.consumeLinkCode(code, new Date());
    const answer = ownerId ? `Linked: you will get nightshift notifications for ${ownerId} here.` : 'That code is unknown or expired. Ask for a new one.';
    if (ownerId) {
      await deps.store.owners.setLineUser(ownerId, userId, at);
      log.info({ owner: ownerId }, 'LINE account linked');
    }
    if (event.replyToken) await line.reply(event.replyToken, answer);
  }
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
