import { createRequire } from 'node:module';

import type * as Undici from 'undici';

import type { Logger } from '../src/logger.js';
import { defineNotifier, type Message, type Notifier, type SendResult } from '../src/notify/notifier.js';
import { classifyLineError } from './lib/line-classify.js';
import { LINE_CONFIG_KEYS, type LineConfig, lineConfigFromEnv } from './lib/line-config.js';
import { withFetchDeadline } from './lib/line-fetch.js';
import { LINE_LIMITS, renderLineMessage, truncate } from './lib/line-render.js';
import { lineLinkRoutes, lineWebhookRoutes } from './lib/line-routes.js';
import { lineSdk } from './lib/line-sdk.js';
import { type LineSignatureCheck, startLineSignatureCheck } from './lib/line-signature.js';

export type { LineConfig } from './lib/line-config.js';
export { lineConfigFromEnv } from './lib/line-config.js';
export { LINE_LIMITS, renderAltText, renderFlexBubble, renderLineMessage, renderText } from './lib/line-render.js';
export { isLinePushTarget, isLineUserId, signLineBody, startLineSignatureCheck, verifyLineSignature } from './lib/line-signature.js';

declare module '../src/notify/notifier.js' {
  interface NotifierChannels {
    line: LineConfig;
  }
}

/** The LINE Messaging API calls nightshift makes, each answering a SendResult (never throwing). */
export interface LineClient {
  /**
   * Push one notification to a user/group/room id. `message.id` (a UUID) is sent as
   * X-Line-Retry-Key on every attempt, so LINE delivers it at most once however often we retry.
   */
  push(message: Message, to: string, signal?: AbortSignal): Promise<SendResult>;
  /** Answer a webhook event with plain text (e.g. "account linked"). Reply tokens are single-use. */
  reply(replyToken: string, text: string, signal?: AbortSignal): Promise<SendResult>;
  /** Close this client's connections (in-flight requests fail and answer retryable). */
  close(): Promise<void>;
}

/** The notifier the core registers, plus `reply` for the webhook's account-link confirmation. */
export interface LineNotifier extends Notifier, Omit<LineClient, 'close'> {
  /**
   * Start checking a webhook's X-Line-Signature before its body is read (fed chunk by chunk).
   * Undefined when the header is not a well-formed signature or no LINE_CHANNEL_SECRET is set.
   */
  startWebhookCheck(signatureHeader: string | undefined): LineSignatureCheck | undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createLineClient(config: LineConfig): LineClient {
  const api = new (lineSdk().messagingApi.MessagingApiClient)({ channelAccessToken: config.channelAccessToken, baseURL: config.apiBaseUrl });
  // Our own pool rather than the process-wide one, so close() can end every socket to LINE
  // (undici even opens a fresh idle connection after an aborted request).
  // undici is loaded when LINE is configured, not by every process that lists the notifiers.
  const { Agent } = createRequire(import.meta.url)('undici') as typeof Undici;
  const agent = new Agent({ keepAliveTimeout: 4_000, connections: 16 });
  const deadline = (signal: AbortSignal | undefined) => ({ timeoutMs: config.timeoutMs, signal, dispatcher: agent });
  const token = config.channelAccessToken;
  return {
    async push(message, to, signal) {
      // LINE rejects a retry key that is not a UUID with a 400; say so before spending a request.
      if (!UUID.test(message.id)) return { status: 'permanent', error: `message id is not a UUID, so it cannot be a LINE retry key` };
      try {
        const res = await withFetchDeadline(deadline(signal), () => api.pushMessageWithHttpInfo({ to, messages: [renderLineMessage(message)] }, message.id));
        const ids = (res.body.sentMessages ?? []).map((m) => m.id).join(',');
        const requestId = res.httpResponse.headers.get('x-line-request-id') ?? 'unknown';
        return { status: 'delivered', response: `request ${requestId}${ids ? ` sentMessages=${ids}` : ''}` };
      } catch (err) {
        return classifyLineError(err, token);
      }
    },
    async reply(replyToken, text, signal) {
      try {
        const res = await withFetchDeadline(deadline(signal), () =>
          api.replyMessageWithHttpInfo({ replyToken, messages: [{ type: 'text', text: truncate(text, LINE_LIMITS.textChars) || '-' }] }),
        );
        return { status: 'delivered', response: `request ${res.httpResponse.headers.get('x-line-request-id') ?? 'unknown'}` };
      } catch (err) {
        return classifyLineError(err, token);
      }
    },
    async close() {
      await agent.destroy();
    },
  };
}

export function createLineNotifier(config: LineConfig, deps: { readonly log: Logger }): LineNotifier {
  const client = createLineClient(config);
  const log = deps.log.child({ notifier: 'line' });
  // close() cancels sends still in flight: at shutdown the outbox will retry them (same retry key).
  const inflight = new Set<AbortController>();
  let closed = false;

  async function guarded(what: string, ids: Record<string, string>, run: (signal: AbortSignal) => Promise<SendResult>, signal?: AbortSignal) {
    if (closed) return { status: 'retryable', error: 'LINE notifier is closed' } satisfies SendResult;
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    inflight.add(controller);
    const started = Date.now();
    try {
      const result = await run(controller.signal);
      const ms = Date.now() - started;
      if (result.status === 'delivered') log.debug({ ...ids, ms, response: result.response }, `line ${what} delivered`);
      else log.warn({ ...ids, ms, status: result.status, error: result.error }, `line ${what} not delivered`);
      return result;
    } finally {
      inflight.delete(controller);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  return {
    name: 'line',
    send: (message, recipient, signal) =>
      guarded('push', { messageId: message.id, event: message.event, recipient }, (s) => client.push(message, recipient, s), signal),
    push: (message, to, signal) => guarded('push', { messageId: message.id, event: message.event, recipient: to }, (s) => client.push(message, to, s), signal),
    reply: (replyToken, text, signal) => guarded('reply', {}, (s) => client.reply(replyToken, text, s), signal),
    startWebhookCheck: (signatureHeader) => startLineSignatureCheck(signatureHeader, config.channelSecret),
    async close() {
      if (closed) return;
      closed = true;
      for (const c of inflight) c.abort(new Error('LINE notifier closed'));
      await client.close();
    },
  };
}

export default defineNotifier({
  name: 'line',
  configKeys: LINE_CONFIG_KEYS,
  fromEnv: lineConfigFromEnv,
  create: createLineNotifier,
  deliveryConcurrency: 10,
  httpsLinks: "LINE's servers fetch a message's image themselves, over HTTPS only",
  // Linked through the bot (POST /owners/:id/line-link). LINE accepts pushes to a user who
  // blocked the bot and delivers nothing: skip them.
  ownerAddress: { field: 'lineUserId', read: (owner) => (owner.lineUserId !== null && owner.lineFollowing ? owner.lineUserId : null) },
  routes: { api: lineLinkRoutes, public: lineWebhookRoutes },
});
