import type { FastifyInstance } from 'fastify';

import type { ConfigKeyDoc, Env } from '../config/section.js';
import type { Logger } from '../logger.js';
import type { Owner } from '../store/owner-types.js';
import type { Store } from '../store/types.js';

/**
 * A notifier delivers one message to one recipient on one channel (LINE, email, webhook…).
 * Notifiers are plugins: one file each in notifiers/, registered by the core. They know
 * nothing of routing, retries or the outbox; they answer what happened to one send.
 * (Not "NotificationChannel": Agenda uses that name for its job wake-ups.)
 */

export type NotifyEvent = 'file.completed' | 'file.failed' | 'file.stuck' | 'job.failed' | 'summary.daily' | 'quota.warning' | 'quota.exceeded' | 'test';

export interface MessageItem {
  /** e.g. a file name. */
  readonly title: string;
  /** e.g. "completed", "failed". */
  readonly status?: string | undefined;
  /** e.g. the failure reason. */
  readonly detail?: string | undefined;
  /** HTTPS image (thumbnail) if one exists. */
  readonly imageUrl?: string | undefined;
  readonly url?: string | undefined;
}

export interface Attachment {
  readonly filename: string;
  readonly contentType: string;
  readonly content: Buffer;
  /** Content-ID for inline use in HTML (`<img src="cid:…">`). */
  readonly cid?: string | undefined;
}

/** A rendered, channel-neutral message. Each notifier lays it out for its channel. */
export interface Message {
  /**
   * Stable idempotency key of this notification (a UUID, derived from event × channel ×
   * recipient). Every attempt to send the same notification carries the same id; LINE uses it
   * as X-Line-Retry-Key, webhooks send it as a header.
   */
  readonly id: string;
  readonly event: NotifyEvent;
  /** One line: a subject / title / alt text. */
  readonly title: string;
  /** Plain-text body (always present: the fallback for every channel). */
  readonly text: string;
  /** HTML body for email, when the template has one. */
  readonly html?: string | undefined;
  /** Key facts, shown as a table/card: [{ label: 'Completed', value: '12' }]. */
  readonly facts?: ReadonlyArray<{ readonly label: string; readonly value: string }> | undefined;
  /** Listed items: files in a digest, failure reasons… */
  readonly items?: readonly MessageItem[] | undefined;
  /** An HTTPS image for the whole message (a chart, a thumbnail), if one exists. */
  readonly imageUrl?: string | undefined;
  /** Link to details. */
  readonly url?: string | undefined;
  /**
   * Every link of the message by name (`page`, `thumbnail`, `original`, `chart`), each signed
   * and expiring (src/notify/links.ts); webhooks send them as `links`.
   */
  readonly links?: Readonly<Record<string, string>> | undefined;
  /** Files to attach (email inlines those with a cid; other channels ignore them). */
  readonly attachments?: readonly Attachment[] | undefined;
  /** The structured event payload, for machine consumers (webhooks). */
  readonly data?: Record<string, unknown> | undefined;
}

export type SendResult =
  | {
      readonly status: 'delivered';
      /** What the provider answered, for the delivery log (e.g. a message id). Never secrets. */
      readonly response?: string | undefined;
    }
  | {
      /** Try again later: 5xx, timeouts, rate limits, connection errors. */
      readonly status: 'retryable';
      readonly error: string;
      /** The provider said when to come back (Retry-After), ms. */
      readonly retryAfterMs?: number | undefined;
      /**
       * The whole channel must stop until this time (e.g. LINE's monthly limit): the hub holds
       * every send on this channel until then and raises an alert.
       */
      readonly pauseChannelUntil?: Date | undefined;
    }
  | {
      /** Retrying cannot help: bad recipient, message rejected (4xx). The provider's text is kept. */
      readonly status: 'permanent';
      readonly error: string;
    };

/**
 * The channels this build has, keyed by name: each notifier file adds its own entry, with its
 * config type as the value, by augmenting this interface:
 *
 *     declare module '../src/notify/notifier.js' {
 *       interface NotifierChannels { slack: SlackConfig }
 *     }
 *
 * The core never names a channel; it gets the type from here and the runtime list from the
 * registry it is handed at start-up (notifiers/index.ts, passed in by src/service.ts).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface NotifierChannels {}

export type ChannelName = keyof NotifierChannels & string;

/** One delivery job per channel (Agenda's concurrency is per job name). */
export type DeliveryJobName = `deliver-${ChannelName}`;

export interface Notifier {
  readonly name: ChannelName;
  /**
   * Send one message to one recipient (LINE user id, email address, webhook name…). Never
   * throws for a delivery problem: it answers with a SendResult. Honours `signal`.
   */
  send(message: Message, recipient: string, signal?: AbortSignal): Promise<SendResult>;
  close(): Promise<void>;
}

/** An owner's addresses in the generic map (`PUT /owners/:id {"addresses": {"slack": "…"}}`), by channel. */
export type OwnerAddresses = Readonly<Record<string, string>>;

/** How an owner is reached on a channel. */
export interface OwnerAddress {
  /**
   * The owner field that holds the address, as the API shows it: `email`, `lineUserId`, or
   * `addresses.<channel>` for a channel that keeps it in the generic address map.
   */
  readonly field: string;
  /** This owner's address on the channel, or null (none, or unusable: a LINE user who blocked the bot). */
  read(owner: Owner, addresses: OwnerAddresses): string | null;
  /**
   * Present when the address lives in the address map: checks one given to `PUT /owners/:id`.
   * Answers the problem ("must be an https://hooks.slack.com/… URL"), or undefined when fine.
   */
  validate?(address: string): string | undefined;
}

/** What a notifier's own HTTP routes are lent. */
export interface NotifierRouteDeps {
  readonly store: Store;
  /** This channel's notifier, or undefined when its config block is not set on this server. */
  readonly notifier: Notifier | undefined;
  readonly log: Logger;
}

/** Registers routes on a fastify scope (a fastify plugin body). */
export type NotifierRoutes = (app: FastifyInstance, deps: NotifierRouteDeps) => Promise<void> | void;

/**
 * What a notifier file exports: everything the core needs to know about the channel. The core
 * derives from these the channel lists, owner routing, one delivery job per channel, the API's
 * enums, the config checks and the README's configuration rows.
 */
export interface NotifierDefinition<N extends ChannelName = ChannelName> {
  readonly name: N;
  /** Every environment variable of its config block, documented (the README rows come from these). */
  readonly configKeys: readonly ConfigKeyDoc[];
  /**
   * Read its config block, once at start-up. Undefined when not configured (e.g. no SMTP_URL):
   * it is then not registered. A bad value throws a ConfigError naming each key.
   */
  fromEnv(env: Env): NotifierChannels[N] | undefined;
  create(config: NotifierChannels[N], deps: { readonly log: Logger }): Notifier;
  /** Runs of this channel's delivery job at once in one process (a throttled channel gets fewer). */
  readonly deliveryConcurrency: number;
  /** How owners are reached on it; absent: only admins (NOTIFY_ADMINS) and tests reach it. */
  readonly ownerAddress?: OwnerAddress | undefined;
  /**
   * The fallback channel: owners with no address on any channel hear here (recipient
   * `owner:<id>`) while NOTIFY_CONSOLE_FALLBACK is on. At most one notifier sets this.
   */
  readonly fallback?: boolean | undefined;
  /**
   * Set when this channel's provider fetches the links of a message itself and needs them on
   * HTTPS: why, for the start-up error. When configured, PUBLIC_URL must then be https://.
   */
  readonly httpsLinks?: string | undefined;
  /** HTTP routes it serves. Registered whether or not the channel is configured. */
  readonly routes?:
    | {
        /** Under /api/v1, behind API_TOKEN (e.g. LINE's link codes). */
        readonly api?: NotifierRoutes | undefined;
        /** At the root, outside the API token (a provider's webhook that signs its own calls). */
        readonly public?: NotifierRoutes | undefined;
      }
    | undefined;
}

/** Identity helper that keeps the channel name literal, so the config type follows it. */
export function defineNotifier<N extends ChannelName>(definition: NotifierDefinition<N>): NotifierDefinition<N> {
  return definition;
}
