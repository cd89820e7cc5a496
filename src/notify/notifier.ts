import type { Logger } from '../logger.js';

/**
 * A notifier delivers one message to one recipient on one channel (LINE, email, webhook…).
 * Notifiers are plugins: one file each in notifiers/, registered by the core. They know
 * nothing of routing, retries or the outbox; they answer what happened to one send.
 * (Not "NotificationChannel": Agenda uses that name for its job wake-ups.)
 */

export type NotifyEvent =
  | 'file.completed'
  | 'file.failed'
  | 'file.stuck'
  | 'job.failed'
  | 'summary.daily'
  | 'quota.warning'
  | 'quota.exceeded'
  | 'test';

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

export type ChannelName = 'line' | 'email' | 'webhook' | 'console';

export interface Notifier {
  readonly name: ChannelName;
  /**
   * Send one message to one recipient (LINE user id, email address, webhook name…). Never
   * throws for a delivery problem: it answers with a SendResult. Honours `signal`.
   */
  send(message: Message, recipient: string, signal?: AbortSignal): Promise<SendResult>;
  close(): Promise<void>;
}

/**
 * What a notifier file exports: its name, how it reads its own config block from the
 * environment, and how to make it. The core calls `fromEnv` once at start-up; a bad value
 * throws NightshiftError(CONFIG_INVALID) naming the key.
 */
export interface NotifierDefinition<C = unknown> {
  readonly name: ChannelName;
  /** Undefined when this notifier is not configured (e.g. no SMTP_URL): it is then not registered. */
  fromEnv(env: Readonly<Record<string, string | undefined>>): C | undefined;
  create(config: C, deps: { readonly log: Logger }): Notifier;
}

export function defineNotifier<C>(definition: NotifierDefinition<C>): NotifierDefinition<C> {
  return definition;
}
