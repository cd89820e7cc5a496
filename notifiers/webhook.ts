import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

import { configIssue, type ConfigKeyDoc, type Env } from '../src/config/section.js';
import type { Logger } from '../src/logger.js';
import { defineNotifier, type Message, type Notifier, type SendResult } from '../src/notify/notifier.js';

/** Defaults of the webhook block (WEBHOOK_*), used when the variable is unset. */
export const WEBHOOK_DEFAULTS = {
  /** Deadline of one POST, from connecting to the last byte of the answer, ms. */
  WEBHOOK_TIMEOUT_MS: 10_000,
} as const;

export const SIGNATURE_HEADER = 'x-nightshift-signature';
export const TIMESTAMP_HEADER = 'x-nightshift-timestamp';
export const ID_HEADER = 'x-nightshift-id';

export interface WebhookConfig {
  /** WEBHOOK_URLS: recipient name → URL. */
  readonly targets: ReadonlyMap<string, URL>;
  /** WEBHOOK_SECRET: the HMAC key. Never logged, never in a result. */
  readonly secret: string;
  readonly timeoutMs: number;
}

/** The JSON body every webhook receives. */
export interface WebhookPayload {
  readonly id: string;
  readonly event: Message['event'];
  readonly title: string;
  readonly text: string;
  readonly facts: NonNullable<Message['facts']>;
  readonly items: NonNullable<Message['items']>;
  /** The file's page (or the message's details link), signed and expiring; null when PUBLIC_URL is unset. */
  readonly url: string | null;
  /** The thumbnail or chart, signed and expiring. */
  readonly imageUrl: string | null;
  /** Every link of the message by name (`page`, `thumbnail`, `original`, `chart`), each signed and expiring. */
  readonly links: Readonly<Record<string, string>>;
  readonly data: Record<string, unknown>;
}

declare module '../src/notify/notifier.js' {
  interface NotifierChannels {
    webhook: WebhookConfig;
  }
}

const invalid = configIssue;

function parseConfig(env: Env): WebhookConfig | undefined {
  const raw = env.WEBHOOK_URLS?.trim();
  if (raw === undefined || raw === '') return undefined;
  const targets = new Map<string, URL>();
  for (const entry of raw
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')) {
    const eq = entry.indexOf('=');
    const name = eq === -1 ? '' : entry.slice(0, eq).trim();
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw invalid('WEBHOOK_URLS', 'must be name=https://…[,name=https://…] with names of letters, digits, _ . -');
    let url: URL;
    try {
      url = new URL(entry.slice(eq + 1).trim());
    } catch {
      throw invalid('WEBHOOK_URLS', `the URL of "${name}" is not a valid URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('WEBHOOK_URLS', `the URL of "${name}" must be http:// or https://`);
    if (targets.has(name)) throw invalid('WEBHOOK_URLS', `"${name}" is listed twice`);
    targets.set(name, url);
  }
  if (targets.size === 0) throw invalid('WEBHOOK_URLS', 'lists no webhook');
  const secret = env.WEBHOOK_SECRET ?? '';
  if (secret.length < 16) throw invalid('WEBHOOK_SECRET', 'is required with WEBHOOK_URLS and must be at least 16 characters');
  const rawTimeout = env.WEBHOOK_TIMEOUT_MS?.trim();
  const timeoutMs = rawTimeout === undefined || rawTimeout === '' ? WEBHOOK_DEFAULTS.WEBHOOK_TIMEOUT_MS : Number(rawTimeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 50) throw invalid('WEBHOOK_TIMEOUT_MS', 'must be an integer >= 50');
  return { targets, secret, timeoutMs };
}

/** How far a receiver lets the timestamp be from its own clock, either way: 5 minutes. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * `sha256=<hex>` of HMAC-SHA256 over `${timestamp}.${body}`, keyed with the shared secret:
 * the timestamp (unix seconds, also sent as X-Nightshift-Timestamp) is signed with the body, so
 * a captured request cannot be replayed once it is older than the receiver's tolerance.
 */
export function signWebhookBody(rawBody: string | Buffer, secret: string, timestamp: number): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex')}`;
}

type HeaderValue = string | readonly string[] | null | undefined;
/** The request's headers (Node's IncomingHttpHeaders, a fetch Headers), or the two values themselves. */
export type WebhookHeaders =
  | { readonly get: (name: string) => string | null }
  | Readonly<Record<string, HeaderValue>>
  | { readonly timestamp: HeaderValue; readonly signature: HeaderValue };

function headerOf(headers: WebhookHeaders, name: string, field: 'timestamp' | 'signature'): string | undefined {
  let v: unknown;
  if (typeof (headers as { get?: unknown }).get === 'function') v = (headers as { get: (n: string) => string | null }).get(name);
  else if (field in headers) v = (headers as Record<string, unknown>)[field];
  else {
    const record = headers as Readonly<Record<string, HeaderValue>>;
    v = record[name] ?? Object.entries(record).find(([k]) => k.toLowerCase() === name)?.[1];
  }
  return typeof v === 'string' ? v : undefined;
}

/**
 * For receivers: did nightshift send exactly `rawBody` (the raw bytes as received, before any
 * JSON parsing), recently? True only when X-Nightshift-Signature signs
 * `${X-Nightshift-Timestamp}.${rawBody}` with `secret` and the timestamp is within
 * `toleranceSeconds` (default 300) of `now` either way. Constant-time compare.
 */
export function verifyWebhookSignature(
  secret: string,
  rawBody: string | Buffer,
  headers: WebhookHeaders,
  options: { readonly toleranceSeconds?: number; readonly now?: number | Date } = {},
): boolean {
  const timestamp = headerOf(headers, TIMESTAMP_HEADER, 'timestamp');
  const signature = headerOf(headers, SIGNATURE_HEADER, 'signature');
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp.trim())) return false;
  if (signature === undefined || !signature.startsWith('sha256=')) return false;
  const now = options.now === undefined ? Date.now() : typeof options.now === 'number' ? options.now : options.now.getTime();
  const ts = Number(timestamp.trim());
  if (Math.abs(now / 1000 - ts) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return false;
  const hex = signature.slice('sha256='.length);
  if (!/^[0-9a-f]{64}$/i.test(hex)) return false;
  const expected = createHmac('sha256', secret).update(`${ts}.`).update(rawBody).digest();
  return timingSafeEqual(Buffer.from(hex, 'hex'), expected);
}

export function webhookPayload(message: Message): WebhookPayload {
  return {
    id: message.id,
    event: message.event,
    title: message.title,
    text: message.text,
    facts: message.facts ?? [],
    items: message.items ?? [],
    url: message.url ?? null,
    imageUrl: message.imageUrl ?? null,
    links: message.links ?? {},
    data: message.data ?? {},
  };
}

/** Retry-After as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const MAX_ANSWER_BYTES = 2048;

interface Answer {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly body: string;
}

function createWebhookNotifier(config: WebhookConfig, log: Logger): Notifier {
  // Own agents, so close() can end every kept-alive socket this notifier opened.
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 8 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 8 }),
  };
  const closing = new AbortController();
  const wlog = log.child({ notifier: 'webhook' });
  const byUrl = new Map<string, string>([...config.targets].map(([name, url]) => [url.toString(), name]));

  function post(url: URL, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const mod = url.protocol === 'https:' ? https : http;
      const req = mod.request(
        url,
        {
          method: 'POST',
          agent: url.protocol === 'https:' ? agents['https:'] : agents['http:'],
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            // Keep reading past the cap (the socket is reused) but only remember the start.
            if (size < MAX_ANSWER_BYTES) chunks.push(chunk);
            size += chunk.length;
          });
          res.on('end', () => {
            const retryAfter = res.headers['retry-after'];
            resolve({
              status: res.statusCode ?? 0,
              retryAfter: (Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) as string | undefined,
              body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_ANSWER_BYTES),
            });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  function describe(name: string, url: URL): string {
    // Only the origin: a webhook URL's path or query often is itself a credential (Slack, Teams).
    return `webhook "${name}" (${url.origin})`;
  }

  async function send(message: Message, recipient: string, signal?: AbortSignal): Promise<SendResult> {
    const name = config.targets.has(recipient) ? recipient : byUrl.get(recipient);
    const url = name === undefined ? undefined : config.targets.get(name);
    if (name === undefined || url === undefined) return { status: 'permanent', error: 'recipient is not a webhook listed in WEBHOOK_URLS' };
    if (closing.signal.aborted) return { status: 'retryable', error: 'webhook notifier is closed' };
    if (signal?.aborted) return { status: 'retryable', error: 'send aborted' };
    const target = describe(name, url);
    const body = JSON.stringify(webhookPayload(message));
    // Each attempt is signed afresh: a retry hours later still passes a receiver's 5-minute window.
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'nightshift-webhook/1',
      [SIGNATURE_HEADER]: signWebhookBody(body, config.secret, timestamp),
      [TIMESTAMP_HEADER]: String(timestamp),
      [ID_HEADER]: message.id,
    };
    const deadline = AbortSignal.timeout(config.timeoutMs);
    const combined = AbortSignal.any([deadline, closing.signal, ...(signal ? [signal] : [])]);
    let result: SendResult;
    try {
      const answer = await post(url, body, headers, combined);
      const detail = answer.body.replace(/\s+/g, ' ').trim().slice(0, 200);
      const said = `${target} answered HTTP ${answer.status}${detail ? `: ${detail}` : ''}`;
      if (answer.status >= 200 && answer.status < 300) result = { status: 'delivered', response: `HTTP ${answer.status}` };
      else if (answer.status === 408 || answer.status === 429 || answer.status >= 500) {
        result = { status: 'retryable', error: said, retryAfterMs: parseRetryAfter(answer.retryAfter) };
      } else result = { status: 'permanent', error: said };
    } catch (err) {
      if (deadline.aborted) result = { status: 'retryable', error: `${target} did not answer within ${config.timeoutMs} ms` };
      else if (combined.aborted) result = { status: 'retryable', error: 'send aborted' };
      else {
        const e = err as NodeJS.ErrnoException;
        result = { status: 'retryable', error: `${target} unreachable: ${e.code ?? e.message}` };
      }
    }
    if (result.status === 'delivered') wlog.debug({ messageId: message.id, webhook: name }, 'webhook delivered');
    else wlog.warn({ messageId: message.id, webhook: name, status: result.status, error: result.error }, 'webhook not delivered');
    return result;
  }

  return {
    name: 'webhook',
    send,
    async close() {
      closing.abort();
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

const configKeys: ConfigKeyDoc[] = [
  { key: 'WEBHOOK_URLS', description: '`name=https://…,other=https://…`; a webhook recipient is a name' },
  {
    key: 'WEBHOOK_SECRET',
    description: 'HMAC-SHA256 key for `X-Nightshift-Signature: sha256=<hex of timestamp.body>` (the timestamp is `X-Nightshift-Timestamp`, unix seconds)',
  },
  { key: 'WEBHOOK_TIMEOUT_MS', default: String(WEBHOOK_DEFAULTS.WEBHOOK_TIMEOUT_MS), description: 'deadline of one POST, connect to last byte' },
];

export default defineNotifier({
  name: 'webhook',
  configKeys,
  fromEnv: parseConfig,
  create: (config, { log }) => createWebhookNotifier(config, log),
  deliveryConcurrency: 10,
});
