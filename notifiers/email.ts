import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

import type * as Nodemailer from 'nodemailer';
import type { SendMailOptions } from 'nodemailer/lib/mailer';

import { configIssue, type ConfigKeyDoc, type Env } from '../src/config/section.js';
import type { Logger } from '../src/logger.js';
import { defineNotifier, type Message, type Notifier, type SendResult } from '../src/notify/notifier.js';
import { renderEmailHtml, renderEmailText } from './templates/email.js';

/** Defaults of the email block (SMTP_*), used when the variable is unset. */
export const EMAIL_DEFAULTS = {
  /** Messages per second across the whole pool. */
  SMTP_RATE_PER_SECOND: 5,
  /** Deadline of one send (connect, greeting, every reply and the whole attempt), ms. */
  SMTP_TIMEOUT_MS: 10_000,
} as const;

export interface EmailConfig {
  readonly host: string;
  readonly port: number;
  /** smtps:// (TLS from the first byte); smtp:// upgrades with STARTTLS when offered. */
  readonly secure: boolean;
  readonly user: string | undefined;
  /** Never logged, never in a result: see `scrub`. */
  readonly password: string | undefined;
  /** SMTP_URL without its password, for log lines and messages. */
  readonly safeUrl: string;
  /** MAIL_FROM: `a@b.example` or `Name <a@b.example>`. */
  readonly from: string;
  /** Domain for Message-IDs, taken from MAIL_FROM. */
  readonly messageIdDomain: string;
  readonly ratePerSecond: number;
  readonly timeoutMs: number;
}

declare module '../src/notify/notifier.js' {
  interface NotifierChannels {
    email: EmailConfig;
  }
}

const invalid = configIssue;

function intFromEnv(env: Env, key: string, fallback: number, min: number): number {
  const raw = env[key]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw invalid(key, `must be an integer >= ${min}`);
  return n;
}

/** Replace the password of every smtp(s):// URL in a text, so the text can go into a message or a log. */
export function sanitizeSmtpUrl(text: string): string {
  return text.replace(/(smtps?:\/\/[^\s:@/]*):[^\s@/]*@/gi, '$1:[redacted]@');
}

function parseConfig(env: Env): EmailConfig | undefined {
  const raw = env.SMTP_URL?.trim();
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('SMTP_URL', 'must be a URL like smtp://user:pass@host:587 or smtps://user:pass@host:465');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw invalid('SMTP_URL', 'must start with smtp:// or smtps://');
  if (url.hostname === '') throw invalid('SMTP_URL', 'has no host');
  const secure = url.protocol === 'smtps:';
  const from = env.MAIL_FROM?.trim() ?? '';
  if (from === '') throw invalid('MAIL_FROM', 'is required when SMTP_URL is set (e.g. "Nightshift <nightshift@example.com>")');
  const domain = /@([^\s@<>]+)>?\s*$/.exec(from)?.[1];
  if (domain === undefined || /[\r\n]/.test(from))
    throw invalid('MAIL_FROM', 'must be an address like nightshift@example.com or Name <nightshift@example.com>');
  const decode = (s: string) => (s === '' ? undefined : decodeURIComponent(s));
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
    secure,
    user: decode(url.username),
    password: decode(url.password),
    safeUrl: `${url.protocol}//${url.username === '' ? '' : `${url.username}${url.password === '' ? '' : ':[redacted]'}@`}${url.host}`,
    from,
    messageIdDomain: domain.toLowerCase(),
    ratePerSecond: intFromEnv(env, 'SMTP_RATE_PER_SECOND', EMAIL_DEFAULTS.SMTP_RATE_PER_SECOND, 1),
    timeoutMs: intFromEnv(env, 'SMTP_TIMEOUT_MS', EMAIL_DEFAULTS.SMTP_TIMEOUT_MS, 50),
  };
}

/** One mailbox, no display name, no list: anything else is the caller's mistake, not the server's. */
const ADDRESS = /^[^\s@<>(),;:"[\]\\]+@[^\s@<>(),;:"[\]\\]+\.[^\s@<>(),;:"[\]\\]+$/;

/** Message-ID from the notification id, so every attempt of one notification carries the same one. */
export function emailMessageId(id: string, domain: string): string {
  const local = /^[A-Za-z0-9._-]{1,128}$/.test(id) ? id : createHash('sha256').update(id).digest('hex').slice(0, 40);
  return `<${local}@${domain}>`;
}

/** The fields nodemailer errors carry (see nodemailer's NodemailerError). */
interface SmtpError {
  readonly code?: string | undefined;
  readonly message: string;
  readonly response?: string | undefined;
  readonly responseCode?: number | undefined;
  readonly permanent?: boolean | undefined;
  readonly rejected?: readonly string[] | undefined;
}

function asSmtpError(err: unknown): SmtpError {
  if (err instanceof Error) return err;
  return { message: String(err) };
}

function createEmailNotifier(config: EmailConfig, log: Logger): Notifier {
  const secrets = [config.password].filter((s): s is string => s !== undefined && s !== '');
  const variants = secrets.flatMap((s) => [
    s,
    encodeURIComponent(s),
    Buffer.from(s).toString('base64'),
    Buffer.from(`\u0000${config.user ?? ''}\u0000${s}`).toString('base64'),
  ]);
  /** Nothing the server or nodemailer says leaves this file with the password in it. */
  const scrub = (text: string): string => {
    let out = sanitizeSmtpUrl(text);
    for (const v of variants) out = out.split(v).join('[redacted]');
    return out.replace(/\s+/g, ' ').trim().slice(0, 500);
  };

  // nodemailer loads when email is configured, not in every process that lists the notifiers.
  const nodemailer = createRequire(import.meta.url)('nodemailer') as typeof Nodemailer;
  const transporter = nodemailer.createTransport({
    pool: true,
    host: config.host,
    port: config.port,
    secure: config.secure,
    auth: config.user === undefined ? undefined : { user: config.user, pass: config.password ?? '' },
    // A worker should notice a dead server in seconds, not nodemailer's 2-10 minutes.
    connectionTimeout: config.timeoutMs,
    greetingTimeout: config.timeoutMs,
    socketTimeout: config.timeoutMs,
    dnsTimeout: config.timeoutMs,
    maxConnections: Math.max(1, Math.min(5, config.ratePerSecond)),
    rateDelta: 1000,
    rateLimit: config.ratePerSecond,
    // Message content comes from events about user files: it must never make us read a local
    // file or fetch a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  });
  const closing = new AbortController();
  const mlog = log.child({ notifier: 'email', smtp: config.safeUrl });

  function classify(err: unknown, timedOut: boolean, aborted: boolean): SendResult {
    const e = asSmtpError(err);
    if (aborted) return { status: 'retryable', error: 'send aborted' };
    if (timedOut || e.code === 'ETIMEDOUT') return { status: 'retryable', error: `SMTP server did not answer within ${config.timeoutMs} ms` };
    const answer = scrub(e.response ?? e.message);
    if (e.code === 'EAUTH' || e.code === 'ENOAUTH') {
      // A wrong password is a channel problem, not this message's: retrying after the fix helps.
      return { status: 'retryable', error: `SMTP authentication failed: ${answer}` };
    }
    if (e.responseCode !== undefined) {
      // nodemailer sets `permanent` from the reply class (5xx except 503).
      const permanent = e.permanent ?? (e.responseCode >= 500 && e.responseCode !== 503);
      return { status: permanent ? 'permanent' : 'retryable', error: answer };
    }
    // Problems with this message itself; anything else without a server answer is the connection.
    if (e.code === 'EENVELOPE' || e.code === 'EMAXRECIPIENTS' || e.code === 'EFILEACCESS' || e.code === 'EURLACCESS') {
      return { status: 'permanent', error: answer };
    }
    return { status: 'retryable', error: `${e.code ?? 'ERROR'}: ${answer}` };
  }

  async function send(message: Message, recipient: string, signal?: AbortSignal): Promise<SendResult> {
    if (!ADDRESS.test(recipient)) return { status: 'permanent', error: 'recipient is not a single email address' };
    if (closing.signal.aborted) return { status: 'retryable', error: 'email notifier is closed' };
    if (signal?.aborted) return { status: 'retryable', error: 'send aborted' };
    const deadline = AbortSignal.timeout(config.timeoutMs);
    const combined = AbortSignal.any([deadline, closing.signal, ...(signal ? [signal] : [])]);
    const mail: SendMailOptions = {
      from: config.from,
      to: recipient,
      subject: message.title,
      text: renderEmailText(message),
      html: renderEmailHtml(message),
      messageId: emailMessageId(message.id, config.messageIdDomain),
      headers: { 'X-Nightshift-Id': message.id, 'X-Nightshift-Event': message.event },
      attachments: (message.attachments ?? []).map((a) => ({
        filename: a.filename,
        contentType: a.contentType,
        content: a.content,
        ...(a.cid === undefined ? {} : { cid: a.cid, contentDisposition: 'inline' as const }),
      })),
      signal: combined,
    };
    try {
      const info = await transporter.sendMail(mail);
      if (info.rejected?.length) {
        // The RCPT answer, not the final DATA one: that is the server's reason for this recipient.
        const rcpt = (info.rejectedErrors as SmtpError[] | undefined)?.[0]?.response;
        const answer = scrub(rcpt ?? info.response ?? 'recipient rejected');
        mlog.warn({ messageId: message.id, answer }, 'email recipient rejected');
        return { status: 'permanent', error: `recipient rejected: ${answer}` };
      }
      mlog.debug({ messageId: message.id, smtpId: info.messageId }, 'email delivered');
      return { status: 'delivered', response: scrub(`${info.messageId} ${info.response ?? ''}`) };
    } catch (err) {
      const result = classify(err, deadline.aborted, !deadline.aborted && combined.aborted);
      mlog.warn({ messageId: message.id, status: result.status, error: result.status === 'delivered' ? undefined : result.error }, 'email not delivered');
      return result;
    }
  }

  return {
    name: 'email',
    send,
    async close() {
      closing.abort();
      // force: a connection stuck mid-delivery would otherwise keep the process alive.
      transporter.close({ force: true });
    },
  };
}

const configKeys: ConfigKeyDoc[] = [
  { key: 'SMTP_URL', description: 'turns email on: `smtp://user:pass@host:587` or `smtps://…`' },
  { key: 'MAIL_FROM', description: 'required with `SMTP_URL`' },
  { key: 'SMTP_RATE_PER_SECOND', default: String(EMAIL_DEFAULTS.SMTP_RATE_PER_SECOND), description: 'pooled transport rate limit' },
  { key: 'SMTP_TIMEOUT_MS', default: String(EMAIL_DEFAULTS.SMTP_TIMEOUT_MS), description: 'connection, greeting and socket timeouts' },
];

export default defineNotifier({
  name: 'email',
  configKeys,
  fromEnv: parseConfig,
  create: (config, { log }) => createEmailNotifier(config, log),
  // Paced by the SMTP pool and its rate limit.
  deliveryConcurrency: 5,
  ownerAddress: { field: 'email', read: (owner) => owner.email },
});
