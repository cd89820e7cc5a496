import { createRequire } from 'node:module';

import type * as Undici from 'undici';
import { z } from 'zod';

import { BOOLEAN_HINT, ConfigError, type ConfigIssue, type ConfigKeyDoc, type Env, parseBoolean, zodIssues } from '../src/config/section.js';
import type { Logger } from '../src/logger.js';
import { defineNotifier, type Message, type Notifier, type SendResult } from '../src/notify/notifier.js';
import { parseRetryAfter } from './webhook.js';

/**
 * Slack, through incoming webhooks: one POST of a Block Kit message per notification. A
 * recipient is a webhook the operator configured (`default` for SLACK_WEBHOOK_URL, or a name
 * from SLACK_WEBHOOKS), or an owner's own incoming-webhook URL (owner `addresses.slack`), which
 * must be on SLACK_HOOKS_ORIGIN. A webhook URL is a credential: only its name or origin is
 * ever logged or put in a result.
 */

export interface SlackConfig {
  /** Operator webhooks by name: `default` (SLACK_WEBHOOK_URL) and the names of SLACK_WEBHOOKS. */
  readonly targets: ReadonlyMap<string, URL>;
  /** SLACK_HOOKS_ORIGIN: the only origin an owner's webhook URL may have. */
  readonly hooksOrigin: string;
  /** SLACK_TIMEOUT_MS: deadline of one POST, connect to last byte (ms). */
  readonly timeoutMs: number;
}

declare module '../src/notify/notifier.js' {
  interface NotifierChannels {
    slack: SlackConfig;
  }
}

export const SLACK_DEFAULTS = { SLACK_HOOKS_ORIGIN: 'https://hooks.slack.com', SLACK_TIMEOUT_MS: 10_000 } as const;

/** What Slack enforces on a message (Block Kit reference), and what we cut to. */
export const SLACK_LIMITS = {
  blocks: 50,
  textChars: 3000,
  headerChars: 150,
  fieldsPerSection: 10,
  fieldChars: 2000,
  altTextChars: 2000,
  buttonTextChars: 75,
  urlChars: 3000,
  contextElements: 10,
} as const;

const configKeys: ConfigKeyDoc[] = [
  { key: 'SLACK_WEBHOOK_URL', description: 'turns Slack on: an incoming-webhook URL, the recipient `default` (e.g. `NOTIFY_ADMINS=slack:default`)' },
  { key: 'SLACK_WEBHOOKS', description: 'more webhooks, `name=https://hooks.slack.com/services/…,…`; a Slack recipient is a name' },
  { key: 'SLACK_ENABLED', description: 'on when a URL above is set; `true` turns Slack on for owners\u2019 own webhook URLs alone, `false` off' },
  {
    key: 'SLACK_HOOKS_ORIGIN',
    default: SLACK_DEFAULTS.SLACK_HOOKS_ORIGIN,
    description: 'the only origin an owner\u2019s webhook URL (`addresses.slack`) may have',
  },
  { key: 'SLACK_TIMEOUT_MS', default: String(SLACK_DEFAULTS.SLACK_TIMEOUT_MS), description: 'deadline of one POST, connect to last byte' },
];

const blank = (v: unknown): unknown => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const httpUrl = (v: string): URL | undefined => {
  try {
    const url = new URL(v.trim());
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
  } catch {
    return undefined;
  }
};

const Schema = z.object({
  SLACK_WEBHOOK_URL: z.preprocess(
    blank,
    z
      .string()
      .refine((v) => httpUrl(v) !== undefined, 'must be an http(s) URL')
      .optional(),
  ),
  SLACK_WEBHOOKS: z.preprocess(blank, z.string().optional()),
  SLACK_ENABLED: z.string().optional(),
  SLACK_HOOKS_ORIGIN: z.preprocess(
    blank,
    z
      .string()
      .trim()
      .refine((v) => httpUrl(v)?.origin === v.replace(/\/+$/, ''), 'must be an origin such as https://hooks.slack.com')
      .default(SLACK_DEFAULTS.SLACK_HOOKS_ORIGIN),
  ),
  SLACK_TIMEOUT_MS: z.preprocess(
    blank,
    z.coerce
      .number({ error: 'must be a whole number of milliseconds' })
      .int('must be a whole number of milliseconds')
      .min(50, 'must be at least 50')
      .max(120_000, 'must be at most 120000')
      .default(SLACK_DEFAULTS.SLACK_TIMEOUT_MS),
  ),
});

/** `name=url,…` into a map, reporting each problem under SLACK_WEBHOOKS. */
function parseNamed(raw: string | undefined, issues: ConfigIssue[]): Map<string, URL> {
  const targets = new Map<string, URL>();
  for (const entry of (raw ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')) {
    const eq = entry.indexOf('=');
    const name = eq === -1 ? '' : entry.slice(0, eq).trim();
    const url = httpUrl(entry.slice(eq + 1));
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name))
      issues.push({ key: 'SLACK_WEBHOOKS', message: 'must be name=https://…[,name=https://…] with names of letters, digits, _ . -' });
    else if (url === undefined) issues.push({ key: 'SLACK_WEBHOOKS', message: `the URL of "${name}" must be an http(s) URL` });
    else if (targets.has(name) || name === 'default')
      issues.push({ key: 'SLACK_WEBHOOKS', message: `"${name}" is listed twice (default is SLACK_WEBHOOK_URL)` });
    else targets.set(name, url);
  }
  return targets;
}

function parseConfig(env: Env): SlackConfig | undefined {
  const parsed = Schema.safeParse(env);
  const issues: ConfigIssue[] = parsed.success ? [] : zodIssues(parsed.error);
  const targets = parseNamed(blank(env.SLACK_WEBHOOKS) as string | undefined, issues);
  const single = parsed.success && parsed.data.SLACK_WEBHOOK_URL !== undefined ? httpUrl(parsed.data.SLACK_WEBHOOK_URL) : undefined;
  if (single) targets.set('default', single);
  const enabled = parseBoolean(env.SLACK_ENABLED, targets.size > 0 || blank(env.SLACK_WEBHOOK_URL) !== undefined);
  if (enabled === undefined) issues.push({ key: 'SLACK_ENABLED', message: BOOLEAN_HINT });
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);
  if (!enabled) return undefined;
  return Object.freeze({ targets, hooksOrigin: parsed.data.SLACK_HOOKS_ORIGIN.replace(/\/+$/, ''), timeoutMs: parsed.data.SLACK_TIMEOUT_MS });
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/;
/** An owner's address: an incoming-webhook URL (https, or http on loopback for a local receiver). */
function validateOwnerUrl(address: string): string | undefined {
  const url = httpUrl(address);
  if (url === undefined || (url.protocol === 'http:' && !LOOPBACK.test(url.hostname)))
    return 'must be a Slack incoming-webhook URL (https://hooks.slack.com/services/…)';
  return undefined;
}

// ---- Block Kit ----

type Text = { type: 'plain_text' | 'mrkdwn'; text: string; emoji?: boolean };
type Block =
  | { type: 'header'; text: Text }
  | { type: 'section'; text?: Text; fields?: Text[]; accessory?: { type: 'image'; image_url: string; alt_text: string } }
  | { type: 'image'; image_url: string; alt_text: string }
  | { type: 'actions'; elements: Array<{ type: 'button'; text: Text; url: string }> }
  | { type: 'context'; elements: Text[] };

/** The JSON body of one incoming-webhook POST. */
export interface SlackPayload {
  /** The fallback: notifications, screen readers, clients without blocks. */
  readonly text: string;
  readonly blocks: Block[];
}

/** Cut to `max` UTF-16 units with an ellipsis, never inside a surrogate pair or an `&…;` escape. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut.replace(/&[a-z]{0,4}$/, '')}…`;
}
/** mrkdwn's three control characters (Slack's "escaping text"). */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const mrkdwn = (text: string, max: number = SLACK_LIMITS.textChars): Text => ({ type: 'mrkdwn', text: truncate(text, max) || ' ' });
const httpsUrl = (u: string | undefined) => (u !== undefined && u.startsWith('https://') && u.length <= SLACK_LIMITS.urlChars ? u : undefined);
const linkable = (u: string | undefined) => (u !== undefined && /^https?:\/\//.test(u) && u.length <= SLACK_LIMITS.urlChars ? u : undefined);

/**
 * The message as Block Kit: a header (title), the text, the facts as section fields (the same
 * facts as the email's table), the items, the image, an "Open" button, and a context line
 * carrying the notification id. Cut to Slack's limits: at most 50 blocks, items last.
 */
export function renderSlackMessage(message: Message): SlackPayload {
  const head: Block[] = [{ type: 'header', text: { type: 'plain_text', text: truncate(message.title, SLACK_LIMITS.headerChars) || '-', emoji: true } }];
  if (message.text.trim() !== '') head.push({ type: 'section', text: mrkdwn(esc(message.text)) });
  const facts = message.facts ?? [];
  const factSections: Block[] = [];
  for (let i = 0; i < facts.length; i += SLACK_LIMITS.fieldsPerSection) {
    const fields = facts.slice(i, i + SLACK_LIMITS.fieldsPerSection).map((f) => mrkdwn(`*${esc(f.label)}*\n${esc(f.value)}`, SLACK_LIMITS.fieldChars));
    factSections.push({ type: 'section', fields });
  }
  const tail: Block[] = [];
  const image = httpsUrl(message.imageUrl);
  if (image) tail.push({ type: 'image', image_url: image, alt_text: truncate(message.title, SLACK_LIMITS.altTextChars) || 'image' });
  const url = linkable(message.url);
  if (url) tail.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open', emoji: false }, url }] });

  // One block for the context line; facts before items, items get what is left.
  const room = SLACK_LIMITS.blocks - head.length - tail.length - 1;
  const factBlocks = factSections.slice(0, room);
  const items = message.items ?? [];
  const itemRoom = Math.max(0, room - factBlocks.length);
  const itemBlocks: Block[] = items.slice(0, itemRoom).map((item) => {
    const link = linkable(item.url);
    const title = link ? `<${link}|${esc(item.title)}>` : esc(item.title);
    const text = `*${title}*${item.status ? ` · ${esc(item.status)}` : ''}${item.detail ? `\n${esc(item.detail)}` : ''}`;
    const thumb = httpsUrl(item.imageUrl);
    return thumb
      ? {
          type: 'section',
          text: mrkdwn(text),
          accessory: { type: 'image', image_url: thumb, alt_text: truncate(item.title, SLACK_LIMITS.altTextChars) || 'image' },
        }
      : { type: 'section', text: mrkdwn(text) };
  });
  const left = items.length - itemBlocks.length + (factSections.length - factBlocks.length) * SLACK_LIMITS.fieldsPerSection;
  const context: Text[] = [mrkdwn(`nightshift · ${message.event} · ${message.id}`)];
  if (left > 0) context.push(mrkdwn(`…and ${left} more not shown`));
  return {
    text: truncate(`${message.title}\n${message.text}`, SLACK_LIMITS.textChars),
    blocks: [...head, ...factBlocks, ...itemBlocks, ...tail, { type: 'context', elements: context }],
  };
}

// ---- sending ----

const MAX_ANSWER_CHARS = 500;

function createSlackNotifier(config: SlackConfig, log: Logger): Notifier {
  // Our own pool, so close() ends every kept-alive socket to Slack.
  // undici is loaded when Slack is configured, not by every process that lists the notifiers.
  const { Agent, request } = createRequire(import.meta.url)('undici') as typeof Undici;
  const agent = new Agent({ keepAliveTimeout: 4_000, connections: 8 });
  const closing = new AbortController();
  const slog = log.child({ notifier: 'slack' });

  /** The webhook of a recipient, and how to name it without its secret path. */
  function resolve(recipient: string): { url: URL; label: string } | string {
    const named = config.targets.get(recipient);
    if (named) return { url: named, label: `slack webhook "${recipient}"` };
    const url = httpUrl(recipient);
    if (url && url.origin === config.hooksOrigin && /^\/(services|workflows|triggers)\//.test(url.pathname)) {
      return { url, label: `slack webhook (${url.origin})` };
    }
    return `recipient is neither a webhook of SLACK_WEBHOOK_URL/SLACK_WEBHOOKS nor an incoming-webhook URL on ${config.hooksOrigin}`;
  }

  async function send(message: Message, recipient: string, signal?: AbortSignal): Promise<SendResult> {
    const target = resolve(recipient);
    if (typeof target === 'string') return { status: 'permanent', error: target };
    if (closing.signal.aborted) return { status: 'retryable', error: 'slack notifier is closed' };
    if (signal?.aborted) return { status: 'retryable', error: 'send aborted' };
    const deadline = AbortSignal.timeout(config.timeoutMs);
    const combined = AbortSignal.any([deadline, closing.signal, ...(signal ? [signal] : [])]);
    const body = JSON.stringify(renderSlackMessage(message));
    let result: SendResult;
    try {
      const res = await request(target.url, {
        method: 'POST',
        dispatcher: agent,
        signal: combined,
        headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'nightshift-slack/1' },
        body,
      });
      const answer = (await res.body.text()).replace(/\s+/g, ' ').trim().slice(0, MAX_ANSWER_CHARS);
      const said = `${target.label} answered HTTP ${res.statusCode}${answer ? `: ${answer}` : ''}`;
      const retryAfter = res.headers['retry-after'];
      if (res.statusCode >= 200 && res.statusCode < 300) result = { status: 'delivered', response: `HTTP ${res.statusCode} ${answer}`.trim() };
      else if (res.statusCode === 408 || res.statusCode === 429 || res.statusCode >= 500) {
        result = { status: 'retryable', error: said, retryAfterMs: parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) };
      } else {
        // invalid_payload, invalid_blocks, channel_not_found, no_service, invalid_token, channel_is_archived…
        result = { status: 'permanent', error: said };
      }
    } catch (err) {
      if (deadline.aborted) result = { status: 'retryable', error: `${target.label} did not answer within ${config.timeoutMs} ms` };
      else if (combined.aborted) result = { status: 'retryable', error: 'send aborted' };
      else {
        const e = err as NodeJS.ErrnoException;
        // undici's messages do not carry the URL, but a cause might: say only the code.
        result = { status: 'retryable', error: `${target.label} unreachable: ${e.code ?? (e.cause as NodeJS.ErrnoException | undefined)?.code ?? e.name}` };
      }
    }
    if (result.status === 'delivered') slog.debug({ messageId: message.id, webhook: target.label }, 'slack delivered');
    else slog.warn({ messageId: message.id, webhook: target.label, status: result.status, error: result.error }, 'slack not delivered');
    return result;
  }

  return {
    name: 'slack',
    send,
    async close() {
      closing.abort();
      await agent.destroy();
    },
  };
}

export default defineNotifier({
  name: 'slack',
  configKeys,
  fromEnv: parseConfig,
  create: (config, { log }) => createSlackNotifier(config, log),
  // Slack allows about one message per second per webhook, with bursts: a few in flight.
  deliveryConcurrency: 4,
  ownerAddress: { field: 'addresses.slack', read: (_owner, addresses) => addresses.slack ?? null, validate: validateOwnerUrl },
});
