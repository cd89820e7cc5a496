/**
 * The notification outbox and delivery log: every notification is a row before anything is
 * sent, keyed by an idempotency key (event × subject × channel × recipient), so a crash or a
 * re-run never sends the same notification twice.
 */

/** queued: waiting (or between attempts); sent: the provider accepted it; failed: last attempt failed, another will follow; dead: gave up. */
export type NotificationStatus = 'queued' | 'sent' | 'failed' | 'dead';

export interface NotificationRecord {
  /** UUID derived from `key`; also LINE's X-Line-Retry-Key. */
  readonly id: string;
  /** Idempotency key, unique. */
  readonly key: string;
  readonly event: string;
  readonly channel: string;
  /** LINE user id, email address, webhook name, "console". */
  readonly recipient: string;
  readonly owner: string | null;
  readonly status: NotificationStatus;
  readonly attempts: number;
  /** The rendered message (src/notify/notifier.ts Message, attachments base64) as JSON. */
  readonly message: Record<string, unknown>;
  /** Set on digest rows: items are appended until notBefore. */
  readonly digestKey: string | null;
  /** Not to be sent before this time (quiet hours, digest window end, retry backoff). */
  readonly notBefore: Date;
  readonly lastError: string | null;
  /** What the provider answered (ids, status text); never secrets. */
  readonly response: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly sentAt: Date | null;
  /** When the first send attempt began (the retry window, NOTIFY_RETRY_FOR, counts from it); null before. */
  readonly firstAttemptAt: Date | null;
}

export interface NewNotification {
  readonly id: string;
  readonly key: string;
  readonly event: string;
  readonly channel: string;
  readonly recipient: string;
  readonly owner: string | null;
  readonly message: Record<string, unknown>;
  readonly digestKey?: string | null;
  readonly notBefore: Date;
}

/**
 * One write the hub planned for an event, before anything is stored: a plain row, or an item
 * appended to a digest (opening the digest row when none is open). A list of these is what a
 * file's final status commits together with (Store.finalizeFile / failFile).
 */
export type OutboxEntry =
  | { readonly kind: 'row'; readonly row: NewNotification }
  | { readonly kind: 'digest'; readonly digestKey: string; readonly item: Record<string, unknown>; readonly create: NewNotification };

export interface NotificationQuery {
  readonly status?: NotificationStatus | undefined;
  readonly event?: string | undefined;
  readonly channel?: string | undefined;
  readonly owner?: string | undefined;
  /** 1..500 */
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface OutboxRepo {
  /** Insert unless the key exists. Returns the stored row and whether this call created it. */
  insert(n: NewNotification): Promise<{ record: NotificationRecord; created: boolean }>;
  get(id: string): Promise<NotificationRecord | null>;
  /** Newest first (createdAt desc, id desc), keyset-paged like files. */
  list(query: NotificationQuery): Promise<{ items: NotificationRecord[]; nextCursor: string | null }>;
  /**
   * Take a row for one send attempt: only if status is queued|failed, notBefore <= now and no
   * other unexpired claim holds it; sets attempts + 1 and a lease until now + leaseMs. Exactly one
   * concurrent caller gets the row.
   */
  claim(id: string, now: Date, leaseMs: number): Promise<NotificationRecord | null>;
  markSent(id: string, response: string | null, at: Date): Promise<void>;
  /** Attempt failed, another will follow at notBefore (lease released). */
  markFailed(id: string, error: string, notBefore: Date): Promise<void>;
  markDead(id: string, error: string): Promise<void>;
  /** dead → queued (attempts reset to 0, notBefore = now) for a manual retry; false if not dead. */
  requeue(id: string, now: Date): Promise<boolean>;
  /**
   * Digest: append `item` to the open digest row with this digestKey (status queued, not yet
   * claimed); if there is none, insert `create` (whose message already holds the item).
   * Returns the row and whether it was created.
   */
  appendToDigest(digestKey: string, item: Record<string, unknown>, create: NewNotification): Promise<{ record: NotificationRecord; created: boolean }>;
  /**
   * Apply planned entries in order (insert / appendToDigest, each idempotent by key). Returns
   * the rows created now, which need a delivery job; appends to an open digest return nothing.
   */
  write(entries: readonly OutboxEntry[]): Promise<NotificationRecord[]>;
  /**
   * A channel is back: its `failed` rows waiting for a later retry (lease free) become due now.
   * Returns them oldest first (createdAt, id), at most `limit`, so their jobs are scheduled in order.
   */
  wake(channel: string, now: Date, limit: number): Promise<NotificationRecord[]>;
  /** When this channel+recipient last got (or has queued) this event, at or after `since`; null if never. */
  lastFor(event: string, channel: string, recipient: string, since: Date): Promise<Date | null>;
  /** queued|failed rows due before `dueBefore` whose lease is free: the sweeper re-enqueues them. */
  findDue(dueBefore: Date, limit: number): Promise<NotificationRecord[]>;
  /** Delete sent/dead rows last updated before `before`; returns rows deleted. */
  purge(before: Date): Promise<number>;
}
