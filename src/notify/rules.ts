import { z } from 'zod';

import { DURATION_HINT, formatDuration, parseDuration } from '../config/duration.js';
import { BOOLEAN_HINT, ConfigError, type ConfigIssue, type ConfigKeyDoc, type Env, parseBoolean } from '../config/section.js';
import type { Owner } from '../store/owner-types.js';
import { RETRY_DEFAULTS, type RetryPolicy } from './backoff.js';
import type { ChannelName, NotifierDefinition, NotifyEvent, OwnerAddress, OwnerAddresses } from './notifier.js';

/** Who hears about one event, and how often. */
export interface Rule {
  /** Send to the file's (or summary's, or quota's) owner on every channel the owner has. */
  readonly owner: boolean;
  /** Send to the configured admin recipients. */
  readonly admins: boolean;
  /** Only these channels (null: all). */
  readonly channels: readonly ChannelName[] | null;
  /**
   * Digest window, ms. The first message to a recipient goes out at once; later ones within
   * the window are collected into one digest sent when the window ends. 0: every message alone.
   */
  readonly windowMs: number;
}

export type Rules = Readonly<Record<NotifyEvent, Rule>>;

export interface AdminRecipient {
  readonly channel: ChannelName;
  readonly address: string;
}

/** How owners are reached on one channel (from its notifier definition). */
export interface OwnerRoute {
  readonly channel: ChannelName;
  readonly address: OwnerAddress;
}

export interface NotifyConfig {
  readonly rules: Rules;
  readonly admins: readonly AdminRecipient[];
  /** Owners with no channel of their own hear through the fallback notifier (console, the embedded default). */
  readonly consoleFallback: boolean;
  /** Every channel this build knows (the registry's names, in its order), configured or not. */
  readonly channels: readonly ChannelName[];
  /** Channels that reach owners, in registry order. */
  readonly ownerRoutes: readonly OwnerRoute[];
  /** The fallback channel (the definition marked `fallback`), if any. */
  readonly fallbackChannel: ChannelName | null;
  /** How failed deliveries are retried, on every channel (NOTIFY_RETRY_FOR, NOTIFY_RETRY_MAX_DELAY). */
  readonly retry: RetryPolicy;
}

const TEN_MINUTES = 10 * 60_000;

/** The default routing, per the product: owners hear about their files and quota; admins about everything that needs a person. */
export const DEFAULT_RULES: Rules = {
  'file.completed': { owner: true, admins: false, channels: null, windowMs: 0 },
  'file.failed': { owner: true, admins: false, channels: null, windowMs: TEN_MINUTES },
  'file.stuck': { owner: false, admins: true, channels: null, windowMs: TEN_MINUTES },
  'job.failed': { owner: false, admins: true, channels: null, windowMs: TEN_MINUTES },
  // The owner's own summary goes to the owner; the all-owners one (owner null) to admins.
  'summary.daily': { owner: true, admins: true, channels: null, windowMs: 0 },
  'quota.warning': { owner: true, admins: true, channels: null, windowMs: 0 },
  'quota.exceeded': { owner: true, admins: true, channels: null, windowMs: 0 },
  test: { owner: false, admins: false, channels: null, windowMs: 0 },
};

/** Unset NOTIFY_ADMINS: one admin, "admin", on the fallback channel (the console), if the build has one. */
const defaultAdmins = (fallback: string | undefined): string => (fallback === undefined ? '' : `${fallback}:admin`);

/** The notify-rules section's variables, documented (README rows); channel names come from the registry. */
export function notifyConfigKeys(definitions: readonly NotifyChannelInfo[]): ConfigKeyDoc[] {
  const channels = definitions.map((d) => d.name);
  return [
    {
      key: 'NOTIFY_ADMINS',
      default: defaultAdmins(definitions.find((d) => d.fallback)?.name) || undefined,
      description: `admin recipients, \`channel:address\` comma-separated, e.g. \`email:ops@example.com,line:U…,webhook:ops\` (channels: ${channels.join(', ')})`,
    },
    {
      key: 'NOTIFY_RULES',
      description:
        'JSON merged over the default rules per event, e.g. `{"file.failed":{"windowMs":600000,"channels":["email"]}}` (`owner`, `admins`, `channels`, `windowMs` = digest window)',
    },
    {
      key: 'NOTIFY_RETRY_FOR',
      default: formatDuration(RETRY_DEFAULTS.NOTIFY_RETRY_FOR),
      description:
        'how long a failed notification is retried, from its first attempt, before it is `dead` (`30m`, `24h`, `2d`; every channel): an outage of the mail server or a webhook shorter than this loses nothing',
    },
    {
      key: 'NOTIFY_RETRY_MAX_DELAY',
      default: formatDuration(RETRY_DEFAULTS.NOTIFY_RETRY_MAX_DELAY),
      description: `the longest wait between two attempts: it doubles from ${RETRY_DEFAULTS.FIRST_DELAY_MS / 1000} s up to this, jittered to half to all of it; a longer \`Retry-After\` wins. When a channel is back (a retried message goes through), its waiting messages go out at once, oldest first, at the channel's rate`,
    },
    {
      key: 'NOTIFY_CONSOLE_FALLBACK',
      default: 'true',
      description: 'owners with no channel of their own are notified on the console (so a fresh start shows notifications)',
    },
  ];
}

/** What the notify section needs to know of each notifier. */
export type NotifyChannelInfo = Pick<NotifierDefinition, 'name' | 'ownerAddress' | 'fallback'>;

/**
 * NOTIFY_RULES (JSON, merged over the defaults per event, e.g. `{"file.completed":{"windowMs":60000}}`),
 * NOTIFY_ADMINS (`email:ops@example.com,line:U…,webhook:ops,console:admin`), NOTIFY_CONSOLE_FALLBACK.
 * Channel names are checked against the registry's. Every problem is reported, as issues.
 */
export function parseNotifyConfig(env: Env, definitions: readonly NotifyChannelInfo[]): NotifyConfig {
  const channels = definitions.map((d) => d.name);
  const issues: ConfigIssue[] = [];
  let rules: Record<NotifyEvent, Rule> = { ...DEFAULT_RULES };
  const rawRules = env.NOTIFY_RULES?.trim();
  if (rawRules) {
    const RulePatch = z
      .object({
        owner: z.boolean().optional(),
        admins: z.boolean().optional(),
        channels: z
          .array(z.string().refine((c) => channels.includes(c as ChannelName), `must be one of ${channels.join(', ')}`))
          .nullable()
          .optional(),
        windowMs: z
          .number()
          .int()
          .min(0)
          .max(7 * 24 * 3_600_000)
          .optional(),
      })
      .strict();
    const RulesPatch = z.partialRecord(z.enum(Object.keys(DEFAULT_RULES) as [NotifyEvent, ...NotifyEvent[]]), RulePatch);
    let json: unknown;
    try {
      json = JSON.parse(rawRules);
    } catch (err) {
      issues.push({ key: 'NOTIFY_RULES', message: `not JSON (${(err as Error).message})` });
    }
    const parsed = json === undefined ? undefined : RulesPatch.safeParse(json);
    if (parsed && !parsed.success) {
      issues.push({ key: 'NOTIFY_RULES', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    }
    for (const [event, patch] of Object.entries(parsed?.data ?? {}) as Array<[NotifyEvent, z.infer<typeof RulePatch>]>) {
      const base = rules[event];
      rules = {
        ...rules,
        [event]: {
          owner: patch.owner ?? base.owner,
          admins: patch.admins ?? base.admins,
          channels: patch.channels === undefined ? base.channels : (patch.channels as ChannelName[] | null),
          windowMs: patch.windowMs ?? base.windowMs,
        },
      };
    }
  }
  const admins: AdminRecipient[] = [];
  const fallbackChannel = definitions.find((d) => d.fallback)?.name ?? null;
  const rawAdmins = env.NOTIFY_ADMINS?.trim() ?? defaultAdmins(fallbackChannel ?? undefined);
  for (const entry of rawAdmins
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const colon = entry.indexOf(':');
    const channel = entry.slice(0, colon) as ChannelName;
    const address = entry.slice(colon + 1);
    if (colon < 1 || !channels.includes(channel) || address === '') {
      issues.push({ key: 'NOTIFY_ADMINS', message: `"${entry}" is not channel:address (channels: ${channels.join(', ')})` });
    } else admins.push({ channel, address });
  }
  const retry = parseRetry(env, issues);
  const consoleFallback = parseBoolean(env.NOTIFY_CONSOLE_FALLBACK, true);
  if (consoleFallback === undefined) issues.push({ key: 'NOTIFY_CONSOLE_FALLBACK', message: BOOLEAN_HINT });
  if (issues.length > 0 || consoleFallback === undefined) throw new ConfigError(issues);
  return {
    rules,
    admins,
    consoleFallback,
    channels,
    ownerRoutes: definitions.flatMap((d) => (d.ownerAddress ? [{ channel: d.name, address: d.ownerAddress }] : [])),
    fallbackChannel,
    retry,
  };
}

function parseRetry(env: Env, issues: ConfigIssue[]): RetryPolicy {
  const read = (key: 'NOTIFY_RETRY_FOR' | 'NOTIFY_RETRY_MAX_DELAY', min: number): number => {
    const raw = env[key]?.trim();
    if (raw === undefined || raw === '') return RETRY_DEFAULTS[key];
    const ms = parseDuration(raw);
    if (ms === undefined) issues.push({ key, message: DURATION_HINT });
    else if (ms < min) issues.push({ key, message: `must be at least ${formatDuration(min)}` });
    return ms ?? RETRY_DEFAULTS[key];
  };
  const forMs = read('NOTIFY_RETRY_FOR', 1_000);
  const maxDelayMs = read('NOTIFY_RETRY_MAX_DELAY', 1_000);
  if (maxDelayMs > forMs && env.NOTIFY_RETRY_MAX_DELAY?.trim()) {
    issues.push({ key: 'NOTIFY_RETRY_MAX_DELAY', message: `must not be longer than NOTIFY_RETRY_FOR (${formatDuration(forMs)})` });
  }
  return { forMs, maxDelayMs: Math.min(maxDelayMs, forMs), firstDelayMs: Math.min(RETRY_DEFAULTS.FIRST_DELAY_MS, maxDelayMs) };
}

export interface Target {
  readonly channel: ChannelName;
  readonly recipient: string;
  /** Set when the recipient is an owner (quiet hours and event preferences apply). */
  readonly owner: Owner | null;
}

/**
 * The recipients of one event: the owner's address on every channel that reaches owners (if the rule says so and the owner
 * wants this event) and the admins, limited to channels that are enabled. No duplicates.
 */
export function resolveTargets(
  config: NotifyConfig,
  event: NotifyEvent,
  owner: Owner | null,
  ownerId: string | null,
  enabled: ReadonlySet<ChannelName>,
  options: { forAdmins: boolean },
  /** The owner's address map (OwnerRepo.addresses), for channels that keep addresses there. */
  addresses: OwnerAddresses = {},
): Target[] {
  const rule = config.rules[event];
  const allowed = (c: ChannelName) => enabled.has(c) && (rule.channels === null || rule.channels.includes(c));
  const out: Target[] = [];
  const seen = new Set<string>();
  const add = (t: Target) => {
    const k = `${t.channel}\u0000${t.recipient}`;
    if (!seen.has(k) && allowed(t.channel)) {
      seen.add(k);
      out.push(t);
    }
  };
  if (rule.owner && ownerId !== null && (owner?.events == null || owner.events.includes(event))) {
    let any = false;
    if (owner) {
      for (const route of config.ownerRoutes) {
        const recipient = route.address.read(owner, addresses);
        if (recipient && allowed(route.channel)) {
          add({ channel: route.channel, recipient, owner });
          any = true;
        }
      }
    }
    if (!any && config.consoleFallback && config.fallbackChannel) add({ channel: config.fallbackChannel, recipient: `owner:${ownerId}`, owner });
  }
  if (rule.admins && options.forAdmins) for (const a of config.admins) add({ channel: a.channel, recipient: a.address, owner: null });
  return out;
}
