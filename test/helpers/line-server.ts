import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for api.line.me that checks what LINE checks on push and reply: the bearer
 * token, the JSON body (targets, 1..5 messages, text/flex limits, Flex component shapes), the
 * X-Line-Retry-Key format, and at-most-once acceptance per retry key (a repeat answers 409 with
 * LINE's body and x-line-accepted-request-id). Answers can be scripted per request.
 */

/** One scripted answer for the next request to an endpoint (consumed in order). */
export type LineScriptStep =
  | { readonly kind: 'status'; readonly status: number; readonly message?: string }
  | { readonly kind: 'rateLimit'; readonly retryAfterSeconds?: number }
  | { readonly kind: 'monthlyLimit' }
  | { readonly kind: 'badRequest'; readonly message: string }
  /** Never answer (until the client gives up or the server closes). Nothing is accepted. */
  | { readonly kind: 'hang' }
  /** Accept and record the message, then never answer: LINE got it but the answer was lost. */
  | { readonly kind: 'acceptThenHang' };

export interface LineAttempt {
  readonly endpoint: 'push' | 'reply';
  readonly retryKey: string | undefined;
  /** HTTP status answered, or 'hung' for a request that was never answered. */
  readonly outcome: number | 'hung';
}

export interface LineDelivery {
  readonly endpoint: 'push' | 'reply';
  readonly to: string | undefined;
  readonly replyToken: string | undefined;
  readonly retryKey: string | undefined;
  readonly requestId: string;
  readonly messages: readonly Record<string, unknown>[];
}

export interface LineTestServer {
  /** http://127.0.0.1:<port>, for LINE_API_BASE_URL. */
  readonly url: string;
  /** The only token the server accepts. */
  readonly token: string;
  /** Accepted messages: exactly one entry per accepted request. */
  readonly deliveries: readonly LineDelivery[];
  /** Every request that reached an endpoint, in order. */
  readonly attempts: readonly LineAttempt[];
  /** Requests currently held open (hang steps not yet ended by the client). */
  openRequests(): number;
  /** TCP connections currently open to the server. */
  openConnections(): number;
  /** Drop any scripted answers not yet used. */
  reset(): void;
  script(...steps: LineScriptStep[]): void;
  scriptReply(...steps: LineScriptStep[]): void;
  /** A fresh single-use reply token, as LINE puts in a webhook event. */
  issueReplyToken(): string;
  close(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_BODY_BYTES = 2 * 1024 * 1024;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(json)),
    'x-line-request-id': randomUUID(),
    ...headers,
  });
  res.end(json);
}

function problemsBody(problems: readonly LineProblem[]): unknown {
  return { message: `The request body has ${problems.length} error(s)`, details: problems };
}

function sentMessages(n: number): Array<{ id: string; quoteToken: string }> {
  return Array.from({ length: n }, () => ({
    id: String(BigInt(`0x${randomBytes(7).toString('hex')}`)),
    quoteToken: randomBytes(12).toString('base64url'),
  }));
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** One entry of LINE's `details` array in a 400 answer. */
export interface LineProblem {
  readonly message: string;
  readonly property: string;
}

const MESSAGE_TYPES = new Set(['text', 'textV2', 'sticker', 'image', 'video', 'audio', 'location', 'imagemap', 'template', 'flex', 'coupon']);
const COMPONENT_TYPES = new Set(['box', 'button', 'image', 'video', 'icon', 'text', 'span', 'separator', 'filler']);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function httpsUrl(v: unknown, max: number): boolean {
  if (typeof v !== 'string' || v.length > max) return false;
  try {
    return new URL(v).protocol === 'https:';
  } catch {
    return false;
  }
}

function checkAction(a: unknown, at: string, out: LineProblem[]): void {
  if (!isObj(a)) return void out.push({ message: 'must be specified', property: at });
  if (typeof a.label === 'string' && a.label.length > 40) out.push({ message: 'Length must be between 0 and 40', property: `${at}.label` });
  if (a.type === 'uri') {
    const ok = typeof a.uri === 'string' && a.uri.length <= 1000 && /^(https?|line|tel):/.test(a.uri);
    if (!ok) out.push({ message: 'invalid uri', property: `${at}.uri` });
  }
}

/** The Flex component rules LINE enforces that a renderer can get wrong. */
function checkComponent(c: unknown, at: string, out: LineProblem[]): void {
  if (!isObj(c) || typeof c.type !== 'string' || !COMPONENT_TYPES.has(c.type)) {
    return void out.push({ message: 'invalid component type', property: `${at}.type` });
  }
  switch (c.type) {
    case 'box':
      if (!['horizontal', 'vertical', 'baseline'].includes(String(c.layout))) out.push({ message: 'invalid layout', property: `${at}.layout` });
      if (!Array.isArray(c.contents)) out.push({ message: 'must be specified', property: `${at}.contents` });
      else c.contents.forEach((x, i) => checkComponent(x, `${at}.contents[${i}]`, out));
      break;
    case 'text':
      if (!(typeof c.text === 'string' && c.text.length > 0) && !Array.isArray(c.contents)) {
        out.push({ message: 'must be non-empty text', property: `${at}.text` });
      }
      break;
    case 'image':
      if (!httpsUrl(c.url, 2000)) out.push({ message: 'must be an HTTPS URL of at most 2000 characters', property: `${at}.url` });
      break;
    case 'button':
      checkAction(c.action, `${at}.action`, out);
      break;
  }
}

function checkBubble(b: unknown, at: string, out: LineProblem[]): void {
  if (!isObj(b) || b.type !== 'bubble') return void out.push({ message: 'invalid container type', property: `${at}.type` });
  for (const block of ['header', 'body', 'footer'] as const) {
    if (b[block] === undefined) continue;
    if (!isObj(b[block]) || b[block].type !== 'box') out.push({ message: 'must be a box', property: `${at}.${block}` });
    else checkComponent(b[block], `${at}.${block}`, out);
  }
  if (b.hero !== undefined) checkComponent(b.hero, `${at}.hero`, out);
}

/** Validate a `messages` array the way LINE's push/reply endpoints do. */
export function validateLineMessages(messages: unknown): LineProblem[] {
  const out: LineProblem[] = [];
  if (!Array.isArray(messages) || messages.length < 1 || messages.length > 5) {
    return [{ message: 'Size must be between 1 and 5', property: 'messages' }];
  }
  messages.forEach((m, i) => {
    const at = `messages[${i}]`;
    if (!isObj(m) || typeof m.type !== 'string' || !MESSAGE_TYPES.has(m.type)) {
      return void out.push({ message: 'invalid message type', property: `${at}.type` });
    }
    if (m.type === 'text') {
      if (typeof m.text !== 'string' || m.text.length < 1 || m.text.length > 5000) {
        out.push({ message: 'Length must be between 1 and 5000', property: `${at}.text` });
      }
    } else if (m.type === 'flex') {
      if (typeof m.altText !== 'string' || m.altText.length < 1 || m.altText.length > 1500) {
        out.push({ message: 'Length must be between 1 and 1500', property: `${at}.altText` });
      }
      if (!isObj(m.contents)) return void out.push({ message: 'must be specified', property: `${at}.contents` });
      if (Buffer.byteLength(JSON.stringify(m.contents)) > 30_000) {
        out.push({ message: 'Size must be at most 30 KB', property: `${at}.contents` });
      }
      if (m.contents.type === 'carousel') {
        const bubbles = Array.isArray(m.contents.contents) ? m.contents.contents : [];
        bubbles.forEach((b, j) => checkBubble(b, `${at}.contents.contents[${j}]`, out));
      } else checkBubble(m.contents, `${at}.contents`, out);
    }
  });
  return out;
}

export async function startLineServer(options: { token?: string } = {}): Promise<LineTestServer> {
  const token = options.token ?? `test-token-${randomBytes(16).toString('hex')}`;
  const deliveries: LineDelivery[] = [];
  const attempts: LineAttempt[] = [];
  const accepted = new Map<string, { requestId: string; sent: ReturnType<typeof sentMessages> }>();
  const pushScript: LineScriptStep[] = [];
  const replyScript: LineScriptStep[] = [];
  const replyTokens = new Set<string>();
  const held = new Set<ServerResponse>();

  function answerStep(step: LineScriptStep, res: ServerResponse): boolean {
    switch (step.kind) {
      case 'status':
        send(res, step.status, { message: step.message ?? (step.status >= 500 ? 'An error occurred in the server.' : 'Error') });
        return true;
      case 'rateLimit':
        send(
          res,
          429,
          { message: 'The API rate limit has been exceeded. Try again later.' },
          step.retryAfterSeconds === undefined ? {} : { 'retry-after': String(step.retryAfterSeconds) },
        );
        return true;
      case 'monthlyLimit':
        send(res, 429, { message: 'You have reached your monthly limit.' });
        return true;
      case 'badRequest':
        send(res, 400, { message: step.message });
        return true;
      case 'hang':
      case 'acceptThenHang':
        return false;
    }
  }

  function hold(res: ServerResponse): void {
    held.add(res);
    res.on('close', () => held.delete(res));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const endpoint = path === '/v2/bot/message/push' ? 'push' : path === '/v2/bot/message/reply' ? 'reply' : undefined;
    if (endpoint === undefined || req.method !== 'POST') {
      send(res, 404, { message: 'Not found' });
      return;
    }
    const retryKey = typeof req.headers['x-line-retry-key'] === 'string' ? req.headers['x-line-retry-key'] : undefined;
    const log = (outcome: LineAttempt['outcome']): void => void attempts.push({ endpoint, retryKey, outcome });
    const answer = (status: number, body: unknown, headers?: Record<string, string>): void => {
      log(status);
      send(res, status, body, headers);
    };

    if (req.headers.authorization !== `Bearer ${token}`) {
      answer(401, { message: 'Authentication failed. Confirm that the access token in the authorization header is valid.' });
      return;
    }
    const raw = await readBody(req);
    if (raw === undefined) return answer(413, { message: 'Request Entity Too Large' });
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return answer(415, { message: 'The content type is not supported' });
    }
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      return answer(400, { message: 'The request body could not be parsed as JSON (line: -, column: -)' });
    }
    if (retryKey !== undefined) {
      // LINE takes retry keys on push (and other sends), never on reply.
      if (endpoint === 'reply') return answer(400, { message: 'The retry key is not supported for this API' });
      if (!UUID.test(retryKey)) return answer(400, { message: "The value for the 'X-Line-Retry-Key' header is invalid" });
      const prior = accepted.get(retryKey);
      if (prior) {
        return answer(409, { message: 'The retry key is already accepted', sentMessages: prior.sent }, { 'x-line-accepted-request-id': prior.requestId });
      }
    }

    const step = (endpoint === 'push' ? pushScript : replyScript).shift();
    if (step && answerStep(step, res)) {
      log(res.statusCode);
      return;
    }
    if (step?.kind === 'hang') {
      log('hung');
      hold(res);
      return;
    }

    const problems = validateLineMessages(body.messages);
    if (endpoint === 'push') {
      if (typeof body.to !== 'string' || !/^[UCR][0-9a-f]{32}$/.test(body.to)) {
        return answer(400, { message: "The property, 'to', in the request body is invalid (line: -, column: -)" });
      }
    } else {
      const rt = body.replyToken;
      if (typeof rt !== 'string' || !replyTokens.has(rt)) return answer(400, { message: 'Invalid reply token' });
    }
    if (problems.length > 0) return answer(400, problemsBody(problems));

    const requestId = randomUUID();
    const messages = body.messages as Record<string, unknown>[];
    const sent = sentMessages(messages.length);
    if (endpoint === 'reply') replyTokens.delete(body.replyToken as string);
    if (retryKey !== undefined) accepted.set(retryKey, { requestId, sent });
    deliveries.push({
      endpoint,
      to: typeof body.to === 'string' ? body.to : undefined,
      replyToken: typeof body.replyToken === 'string' ? body.replyToken : undefined,
      retryKey,
      requestId,
      messages,
    });
    if (step?.kind === 'acceptThenHang') {
      log('hung');
      hold(res);
      return;
    }
    answer(200, { sentMessages: sent }, { 'x-line-request-id': requestId });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { message: String(err) });
    });
  });
  let connections = 0;
  server.on('connection', (socket) => {
    connections++;
    socket.on('close', () => connections--);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    deliveries,
    attempts,
    openRequests: () => held.size,
    openConnections: () => connections,
    reset() {
      pushScript.length = 0;
      replyScript.length = 0;
    },
    script: (...steps) => void pushScript.push(...steps),
    scriptReply: (...steps) => void replyScript.push(...steps),
    issueReplyToken() {
      const t = randomBytes(16).toString('hex');
      replyTokens.add(t);
      return t;
    },
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
