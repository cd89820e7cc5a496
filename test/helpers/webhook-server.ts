import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';

import { ID_HEADER, SIGNATURE_HEADER, verifyWebhookSignature, type WebhookPayload } from '../../notifiers/webhook.js';

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

export interface TestWebhookServer {
  /** `http://127.0.0.1:port` — append any path. */
  readonly origin: string;
  /** Requests whose signature verified and that got a 2xx. */
  readonly received: ReceivedWebhook[];
  /** Requests refused with 401 because the signature did not verify. */
  readonly badSignatures: string[];
  /** Every request that reached the receiver, whatever it answered. */
  attempts(): number;
  /** Answer the next requests with these, in order (then 204 again). */
  answerNext(...answers: ScriptedAnswer[]): void;
  /** Always answer this path with this status (e.g. '/gone' → 410). */
  answerPath(path: string, answer: ScriptedAnswer): void;
  /** Accept and never answer, until turned off or closed. */
  hang(on: boolean): void;
  openConnections(): number;
  close(): Promise<void>;
}

/**
 * A real HTTP receiver on 127.0.0.1 (random port) that checks X-Nightshift-Signature with
 * `verifyWebhookSignature` against the raw body, exactly as a user's receiver should.
 */
export async function startWebhookServer(secret: string): Promise<TestWebhookServer> {
  const received: ReceivedWebhook[] = [];
  const badSignatures: string[] = [];
  const queue: ScriptedAnswer[] = [];
  const byPath = new Map<string, ScriptedAnswer>();
  const sockets = new Set<Socket>();
  let hanging = false;
  let attempts = 0;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      attempts += 1;
      if (hanging) return;
      const raw = Buffer.concat(chunks).toString('utf8');
      if (!verifyWebhookSignature(raw, req.headers[SIGNATURE_HEADER], secret)) {
        badSignatures.push(raw);
        res.writeHead(401, { 'content-type': 'text/plain' }).end('bad signature');
        return;
      }
      const path = req.url ?? '/';
      const answer = byPath.get(path) ?? queue.shift() ?? { status: 204 };
      if (answer.status >= 200 && answer.status < 300) {
        received.push({ path, headers: req.headers, rawBody: raw, body: JSON.parse(raw) as WebhookPayload });
      }
      res.writeHead(answer.status, answer.retryAfter === undefined ? {} : { 'retry-after': answer.retryAfter });
      res.end(answer.body ?? '');
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    badSignatures,
    attempts: () => attempts,
    answerNext: (...answers) => void queue.push(...answers),
    answerPath: (path, answer) => void byPath.set(path, answer),
    hang(on) {
      hanging = on;
    },
    openConnections: () => sockets.size,
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

/** The id header of a received webhook (the notification id). */
export function receivedId(r: ReceivedWebhook): string | undefined {
  const v = r.headers[ID_HEADER];
  return Array.isArray(v) ? v[0] : v;
}
