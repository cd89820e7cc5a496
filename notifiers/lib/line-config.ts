import { z } from 'zod';

import { ConfigError, type ConfigIssue, type ConfigKeyDoc, type Env, zodIssues } from '../../src/config/section.js';

/** The LINE notifier's config block, read once from the environment. */
export interface LineConfig {
  /** LINE_CHANNEL_ACCESS_TOKEN: long-lived channel access token. Required to enable LINE. */
  readonly channelAccessToken: string;
  /** LINE_CHANNEL_SECRET: 32 hex digits; verifies webhook signatures. Unset: no webhook. */
  readonly channelSecret: string | undefined;
  /** LINE_API_BASE_URL: Messaging API origin. Default https://api.line.me (tests use a local server). */
  readonly apiBaseUrl: string;
  /** LINE_TIMEOUT_MS: how long one API request may take, connect to last byte (ms). Default 10000. */
  readonly timeoutMs: number;
}

export const LINE_DEFAULTS = {
  LINE_API_BASE_URL: 'https://api.line.me',
  LINE_TIMEOUT_MS: 10_000,
} as const;

/** The LINE block's variables, documented (README rows). */
export const LINE_CONFIG_KEYS: readonly ConfigKeyDoc[] = [
  { key: 'LINE_CHANNEL_ACCESS_TOKEN', description: 'turns LINE on (Messaging API push)' },
  { key: 'LINE_CHANNEL_SECRET', description: 'checks `X-Line-Signature` on `/webhooks/line`' },
  { key: 'LINE_API_BASE_URL', default: LINE_DEFAULTS.LINE_API_BASE_URL, description: 'Messaging API origin' },
  { key: 'LINE_TIMEOUT_MS', default: String(LINE_DEFAULTS.LINE_TIMEOUT_MS), description: 'per request (the SDK has none)' },
];

const blank = (v: unknown): unknown => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const Schema = z.object({
  // Tokens go into an HTTP header: whitespace or control characters would break (or inject) it.
  LINE_CHANNEL_ACCESS_TOKEN: z.preprocess(
    blank,
    z
      .string()
      .trim()
      .regex(/^[\x21-\x7e]+$/, 'must be a channel access token (printable ASCII, no spaces)')
      .optional(),
  ),
  LINE_CHANNEL_SECRET: z.preprocess(
    blank,
    z
      .string()
      .trim()
      .regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex digits')
      .optional(),
  ),
  LINE_API_BASE_URL: z.preprocess(
    blank,
    z
      .string()
      .trim()
      .regex(/^https?:\/\/[^\s/]+(\/.*)?$/, 'must be an http(s) URL')
      .default(LINE_DEFAULTS.LINE_API_BASE_URL),
  ),
  LINE_TIMEOUT_MS: z.preprocess(
    blank,
    z.coerce
      .number({ error: 'must be a whole number of milliseconds' })
      .int('must be a whole number of milliseconds')
      .min(100, 'must be at least 100')
      .max(120_000, 'must be at most 120000')
      .default(LINE_DEFAULTS.LINE_TIMEOUT_MS),
  ),
});

/**
 * Read the LINE block. Undefined when LINE_CHANNEL_ACCESS_TOKEN is unset (LINE off); a bad
 * value, or LINE settings without a token, throws CONFIG_INVALID naming each key.
 */
export function lineConfigFromEnv(env: Env): LineConfig | undefined {
  const parsed = Schema.safeParse(env);
  const problems: ConfigIssue[] = parsed.success ? [] : zodIssues(parsed.error);
  const token = parsed.success ? parsed.data.LINE_CHANNEL_ACCESS_TOKEN : blank(env.LINE_CHANNEL_ACCESS_TOKEN);
  if (token === undefined) {
    const stray = ['LINE_CHANNEL_SECRET', 'LINE_API_BASE_URL', 'LINE_TIMEOUT_MS'].filter((k) => blank(env[k]) !== undefined);
    if (stray.length === 0) return undefined;
    problems.unshift({ key: 'LINE_CHANNEL_ACCESS_TOKEN', message: `required when ${stray.join(', ')} is set` });
  }
  const d = parsed.success ? parsed.data : undefined;
  if (problems.length > 0 || d?.LINE_CHANNEL_ACCESS_TOKEN === undefined) {
    throw new ConfigError(problems);
  }
  return Object.freeze({
    channelAccessToken: d.LINE_CHANNEL_ACCESS_TOKEN,
    channelSecret: d.LINE_CHANNEL_SECRET,
    apiBaseUrl: d.LINE_API_BASE_URL.replace(/\/+$/, ''),
    timeoutMs: d.LINE_TIMEOUT_MS,
  });
}
