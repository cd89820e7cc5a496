import type { Logger } from '../logger.js';
import { digestKeyOf, notificationId, notificationKey } from '../store/outbox-keys.js';
import type { NotificationRecord, OutboxEntry } from '../store/outbox-types.js';
import type { Owner } from '../store/owner-types.js';
import type { Store } from '../store/types.js';
import { type EventPayloads, subjectKey } from './events.js';
import type { MessageLinks } from './links.js';
import type { ChannelName, Notifier, NotifyEvent } from './notifier.js';
import { quietUntil } from './quiet.js';
import { messageToJson, render, type RenderContext, renderDigest } from './render.js';
import { type NotifyConfig, resolveTargets, type Target } from './rules.js';

export interface NotifyHub {
  /** The links messages carry (signed, from PUBLIC_URL): what event payloads' URLs are made with. */
  readonly links: MessageLinks;
  /** Channels with a registered notifier. */
  readonly channels: ReadonlySet<ChannelName>;
  readonly notifiers: ReadonlyMap<ChannelName, Notifier>;
  /**
   * Persist one notification per recipient of this event (idempotently) and schedule its
   * delivery. Returns the notifications created now (not those that already existed).
   */
  emit<E extends NotifyEvent>(event: E, payload: EventPayloads[E]): Promise<NotificationRecord[]>;
  /**
   * What `emit` would write for this event, without writing it: the routing, rules, quiet
   * hours and digest windows applied now. A caller commits the entries with its own state
   * change (Store.finalizeFile) and then hands the created rows to `schedule`.
   */
  plan<E extends NotifyEvent>(event: E, payload: EventPayloads[E]): Promise<OutboxEntry[]>;
  /** Make sure each of these (just created) rows has its delivery job, at its notBefore. */
  schedule(records: readonly NotificationRecord[]): Promise<void>;
  /**
   * The recipients of one event for this owner (null: nobody's): the owner's addresses on every
   * channel that reaches owners, then the admins when `forAdmins`. The same list `emit` sends to.
   */
  targets(event: NotifyEvent, owner: Owner | null, ownerId: string | null, options: { forAdmins: boolean }): Promise<Target[]>;
  /** Until when a channel is paused (e.g. LINE's monthly limit), or null. In-process: each worker learns it from its own 429. */
  pausedUntil(channel: ChannelName, now: Date): Date | null;
  pauseChannel(channel: ChannelName, until: Date): void;
  /** Queue a test message to one recipient on one channel. */
  sendTest(channel: ChannelName, recipient: string): Promise<NotificationRecord>;
  close(): Promise<void>;
}

export interface HubOptions {
  readonly config: NotifyConfig;
  readonly store: Store;
  readonly notifiers: ReadonlyMap<ChannelName, Notifier>;
  readonly renderContext: RenderContext;
  /** Make sure a delivery job for this notification runs at `at` (a unique upsert: safe to repeat). */
  readonly schedule: (notification: { readonly id: string; readonly channel: string }, at: Date) => Promise<void>;
  readonly log: Logger;
}

export function createHub(options: HubOptions): NotifyHub {
  const { config, store, log } = options;
  const channels = new Set(options.notifiers.keys());
  const paused = new Map<ChannelName, Date>();

  async function queue(n: Parameters<Store['outbox']['insert']>[0]): Promise<NotificationRecord | null> {
    const { record, created } = await store.outbox.insert(n);
    if (!created) return null;
    await options.schedule(record, record.notBefore);
    return record;
  }

  // Only channels that keep owners' addresses in the map need the extra read.
  const usesAddressMap = config.ownerRoutes.some((r) => r.address.validate !== undefined && channels.has(r.channel));
  async function targets(event: NotifyEvent, owner: Owner | null, ownerId: string | null, opts: { forAdmins: boolean }): Promise<Target[]> {
    const addresses = owner && usesAddressMap ? await store.owners.addresses(owner.id) : {};
    return resolveTargets(config, event, owner, ownerId, channels, opts, addresses);
  }

  async function plan<E extends NotifyEvent>(event: E, payload: EventPayloads[E]): Promise<OutboxEntry[]> {
    const p = payload as { owner?: string | null };
    const ownerId = p.owner ?? null;
    const owner = ownerId ? await store.owners.get(ownerId) : null;
    // The all-owners summary goes to admins only; an owner's own summary to that owner only.
    const forAdmins = event !== 'summary.daily' || ownerId === null;
    const recipients = await targets(event, owner, ownerId, { forAdmins });
    if (recipients.length === 0) return [];
    const draft = render(event, payload, options.renderContext);
    const subject = subjectKey(event, payload);
    const windowMs = config.rules[event].windowMs;
    const entries: OutboxEntry[] = [];
    const now = new Date();

    for (const t of recipients) {
      const key = notificationKey(event, subject, t.channel, t.recipient);
      const quiet = t.owner ? quietUntil(now, t.owner.timezone, t.owner.quietHours) : null;
      let notBefore = quiet && quiet > now ? quiet : now;
      const base = { event, channel: t.channel, recipient: t.recipient, owner: ownerId };

      if (windowMs > 0) {
        const last = await store.outbox.lastFor(event, t.channel, t.recipient, new Date(now.getTime() - windowMs));
        if (last) {
          // Within the window of an earlier message: collect into the digest sent when the window ends.
          const windowEnd = new Date(last.getTime() + windowMs);
          if (windowEnd > notBefore) notBefore = windowEnd;
          const digestKey = digestKeyOf(event, t.channel, t.recipient);
          const item = { ...(draft.items?.[0] ?? { title: draft.title, detail: draft.text }) };
          entries.push({
            kind: 'digest',
            digestKey,
            item,
            create: {
              ...base,
              id: notificationId(`${digestKey}|${key}`),
              key: `${digestKey}|${key}`,
              digestKey,
              message: messageToJson(renderDigest(event, [item])),
              notBefore,
            },
          });
          continue;
        }
      }
      entries.push({ kind: 'row', row: { ...base, id: notificationId(key), key, message: messageToJson(draft), notBefore } });
    }
    return entries;
  }

  async function scheduleAll(records: readonly NotificationRecord[]): Promise<void> {
    for (const r of records) await options.schedule(r, r.notBefore);
  }

  return {
    links: options.renderContext.links,
    channels,
    notifiers: options.notifiers,
    targets,
    async emit(event, payload) {
      const created = await store.outbox.write(await plan(event, payload));
      await scheduleAll(created);
      if (created.length > 0) log.debug({ event, count: created.length }, 'notifications queued');
      return created;
    },
    plan,
    schedule: scheduleAll,
    pausedUntil(channel, now) {
      const until = paused.get(channel);
      return until && until > now ? until : null;
    },
    pauseChannel(channel, until) {
      paused.set(channel, until);
    },
    async sendTest(channel, recipient) {
      const key = notificationKey('test', `${Date.now()}-${Math.random().toString(36).slice(2)}`, channel, recipient);
      const draft = render('test', { note: 'A test message from nightshift. If you can read this, this channel works.' }, options.renderContext);
      const r = await queue({
        id: notificationId(key),
        key,
        event: 'test',
        channel,
        recipient,
        owner: null,
        message: messageToJson(draft),
        notBefore: new Date(),
      });
      if (!r) throw new Error('test notification already exists');
      return r;
    },
    async close() {
      for (const [name, n] of options.notifiers) {
        try {
          await n.close();
        } catch (err) {
          log.error({ err, notifier: name }, 'error closing notifier');
        }
      }
    },
  };
}
