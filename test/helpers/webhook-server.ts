import type { IncomingHttpHeaders } from 'node:http';

import { ID_HEADER, verifyWebhookSignature, type WebhookPayload } from '../../notifiers/webhook.js';
import { type ScriptedServer, startScriptedServer } from './scripted-server.js';

/** One request the receiver accepted (signature valid, 2xx answered). */
export interface ReceivedWebhook {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  readonly body: WebhookPayload;
}

/** A scripted answer: status, optional Retry-After, optional body. */
export interface ScriptedAnswer {
  readonly status: number;
  readonly retryAfter?: string;
  readonly body?: string;
}

/** Unscripted requests with a valid signature get 204. */
export interface TestWebhookServer extends ScriptedServer<ScriptedAnswer> {
  /** Requests whose signature verified and that got a 2xx. */
  readonly received: ReceivedWebhook[];
  /** Requests refused with 401 because the signature did not verify. */
  readonly badSignatures: string[];
}

/**
 * A real HTTP receiver on 127.0.0.1 (random port) that checks X-Nightshift-Signature and
 * X-Nightshift-Timestamp with `verifyWebhookSignature` against the raw body, exactly as a user's
 * receiver should.
 */
export async function startWebhookServer(secret: string): Promise<TestWebhookServer> {
  const received: ReceivedWebhook[] = [];
  const badSignatures: string[] = [];
  const base = await startScriptedServer<ScriptedAnswer>((req, body, res, scripted) => {
    const raw = body.toString('utf8');
    if (!verifyWebhookSignature(secret, raw, req.headers)) {
      badSignatures.push(raw);
      res.writeHead(401, { 'content-type': 'text/plain' }).end('bad signature');
      return;
    }
    const path = req.url ?? '/';
    const answer = scripted() ?? { status: 204 };
    if (answer.status >= 200 && answer.status < 300) {
      received.push({ path, headers: req.headers, rawBody: raw, body: JSON.parse(raw) as WebhookPayload });
    }
    res.writeHead(answer.status, answer.retryAfter === undefined ? {} : { 'retry-after': answer.retryAfter });
    res.end(answer.body ?? '');
  });
  return { ...base, received, badSignatures };
}

/** The id header of a received webhook (the notification id). */
export function receivedId(r: ReceivedWebhook): string | undefined {
  const v = r.headers[ID_HEADER];
  return Array.isArray(v) ? v[0] : v;
}
