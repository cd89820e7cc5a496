import { z } from 'zod';

import { ErrorCodes, NightshiftError } from '../errors.js';
import type { Owner } from '../store/owner-types.js';
import type { ChannelName, NotifyEvent } from './notifier.js';

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

export interface NotifyConfig {
  readonly rules: Rules;
  readonly admins: readonly AdminRecipient[];
  /** Owners with no channel of their own hear through the console notifier (the embedded default). */
  readonly consoleFallback: boolean;
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

const CHANNELS = ['line', 'email', 'webhook', 'console'] as const;
const RulePatch = z
  .object({
    owner: z.boolean().optional(),
    admins: z.boolean().optional(),
    channels: z.array(z.enum(CHANNELS)).nullable().optional(),
    windowMs: z.number().int().min(0).max(7 * 24 * 3_600_000).optional(),
  })
  .strict();
const RulesPatch = z.partialRecord(z.enum(Object.keys(DEFAULT_RULES) as [NotifyEvent, ...NotifyEvent[]]), RulePatch);

function invalid(key: string, msg: string): NightshiftError {
  return new NightshiftError(ErrorCodes.CONFIG_INVALID, `invalid configuration:\n  ${key}: ${msg}`);
}

/**
 * NOTIFY_RULES (JSON, merged over the defaults per event, e.g. `{"file.completed":{"windowMs":60000}}`),
 * NOTIFY_ADMINS (`email:ops@example.com,line:U…,webhook:ops,console:admin`), NOTIFY_CONSOLE_FALLBACK.
 */
export function parseNotifyConfig(env: Readonly<Record<string, string | undefined>>): NotifyConfig {
  let rules: Record<NotifyEvent, Rule> = { ...DEFAULT_RULES };
  const rawRules = env.NOTIFY_RULES?.trim();
  if (rawRules) {
    let json: unknown;
    try {
      json = JSON.parse(rawRules);
    } catch (err) {
      throw invalid('NOTIFY_RULES', `not JSON (${(err as Error).message})`);
    }
    const parsed = RulesPatch.safeParse(json);
    if (!parsed.success) throw invalid('NOTIFY_RULES', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    for (const [event, patch] of Object.entries(parsed.data) as Array<[NotifyEvent, z.infer<typeof RulePatch>]>) {
      const base = rules[event];
      rules = {
        ...rules,
        [event]: {
          owner: patch.owner ?? base.owner,
          admins: patch.admins ?? base.admins,
          channels: patch.channels === undefined ? base.channels : patch.channels,
          windowMs: patch.windowMs ?? base.windowMs,
        },
      };
    }
  }
  const admins: AdminRecipient[] = [];
  const rawAdmins = env.NOTIFY_ADMINS?.trim() ?? 'console:admin';
  for (const entry of rawAdmins.split(',').map((s) => s.trim()).filter(Boolean)) {
    const colon = entry.indexOf(':');
    const channel = entry.slice(0, colon) as ChannelName;
    const address = entry.slice(colon + 1);
    if (colon < 1 || !CHANNELS.includes(channel) || address === '') {
      throw invalid('NOTIFY_ADMINS', `"${entry}" is not channel:address (channels: ${CHANNELS.join(', ')})`);
    }
    admins.push({ channel, address });
  }
  const fallback = (env.NOTIFY_CONSOLE_FALLBACK ?? 'true').trim().toLowerCase();
  if (!['true', 'false', '1', '0', 'yes', 'no'].includes(fallback)) throw invalid('NOTIFY_CONSOLE_FALLBACK', 'must be true or false');
  return { rules, admins, consoleFallback: ['true', '1', 'yes'].includes(fallback) };
}

export interface Target {
  readonly channel: ChannelName;
  readonly recipient: string;
  /** Set when the recipient is an owner (quiet hours and event preferences apply). */
  readonly owner: Owner | null;
}

/**
 * The recipients of one event: the owner's own channels (if the rule says so and the owner
 * wants this event) and the admins, limited to channels that are enabled. No duplicates.
 */
export function resolveTargets(
  config: NotifyConfig,
  event: NotifyEvent,
  owner: Owner | null,
  ownerId: string | null,
  enabled: ReadonlySet<ChannelName>,
  options: { forAdmins: boolean },
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
    if (owner?.email && allowed('email')) {
      add({ channel: 'email', recipient: owner.email, owner });
      any = true;
    }
    // LINE accepts pushes to a user who blocked the bot and delivers nothing: skip them.
    if (owner?.lineUserId && owner.lineFollowing && allowed('line')) {
      add({ channel: 'line', recipient: owner.lineUserId, owner });
      any = true;
    }
    if (!any && config.consoleFallback) add({ channel: 'console', recipient: `owner:${ownerId}`, owner });
  }
  if (rule.admins && options.forAdmins) for (const a of config.admins) add({ channel: a.channel, recipient: a.address, owner: null });
  return out;
}
