/** Owners: who files belong to, where they hear about them, and their storage quota. */

export interface QuietHours {
  /** Local time in the owner's timezone, "HH:MM" (24 h). start > end spans midnight. */
  readonly start: string;
  readonly end: string;
}

export interface Owner {
  readonly id: string;
  readonly email: string | null;
  /** LINE user id, `U` + 32 hex; set by linking through the bot. */
  readonly lineUserId: string | null;
  /** False after the user blocked (unfollowed) the bot: LINE answers 200 but delivers nothing. */
  readonly lineFollowing: boolean;
  /** Bytes; null = no quota. */
  readonly quotaBytes: number | null;
  /** IANA timezone, default 'UTC'. */
  readonly timezone: string;
  readonly quietHours: QuietHours | null;
  /** Events this owner wants; null = every event the rules send to owners. */
  readonly events: readonly string[] | null;
  /** Quota thresholds (percent: 80, 90, 100) that have fired and not re-armed yet. */
  readonly quotaAlerts: readonly number[];
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A PUT body: every field optional; absent fields keep their value (or default on create). */
export interface OwnerPatch {
  readonly email?: string | null;
  readonly lineUserId?: string | null;
  readonly quotaBytes?: number | null;
  readonly timezone?: string;
  readonly quietHours?: QuietHours | null;
  readonly events?: readonly string[] | null;
}

export interface OwnerRepo {
  /** Create or update; returns the owner as stored. */
  upsert(id: string, patch: OwnerPatch): Promise<Owner>;
  get(id: string): Promise<Owner | null>;
  /** Every owner, id order (owners are few compared with files). */
  list(): Promise<Owner[]>;
  findByLineUserId(lineUserId: string): Promise<Owner | null>;
  /** Store a one-time link code for an owner (replacing any earlier code of that owner). */
  createLinkCode(ownerId: string, code: string, expiresAt: Date): Promise<void>;
  /** Atomically take a code: returns its owner id once, if unexpired at `now`; null otherwise. */
  consumeLinkCode(code: string, now: Date): Promise<string | null>;
  /**
   * Link (or unlink with null) a LINE user; linking sets lineFollowing = true. `at`: the time of
   * the LINE event that linked it, which becomes the owner's last applied LINE event (none: cleared).
   */
  setLineUser(ownerId: string, lineUserId: string | null, at?: Date): Promise<void>;
  /**
   * Record follow/unfollow for whichever owner has this LINE user id; returns owners changed.
   * With `at` (the webhook event's timestamp) only owners whose last applied LINE event is not
   * newer change, and `at` becomes their last applied event: a replayed older event changes nothing.
   */
  setLineFollowing(lineUserId: string, following: boolean, at?: Date): Promise<number>;
  /**
   * Record a LINE `webhookEventId` as applied, atomically: true the first time, false when it
   * was already recorded (a redelivery or a replay). Ids older than `retainMs` are forgotten.
   */
  claimLineEvent(eventId: string, now: Date, retainMs: number): Promise<boolean>;
  /** Forget a claimed event id again (its handling failed, so LINE's redelivery must be applied). */
  releaseLineEvent(eventId: string): Promise<void>;
  /**
   * The owner's address map, channel → address, for channels that keep owners' addresses there
   * (e.g. `slack`: an incoming-webhook URL). Empty for an unknown owner.
   */
  addresses(ownerId: string): Promise<Readonly<Record<string, string>>>;
  /** Set (a string) or remove (null) addresses of an existing owner; channels absent from the patch keep theirs. */
  setAddresses(ownerId: string, patch: Readonly<Record<string, string | null>>): Promise<void>;
  /**
   * Compare-and-set of the fired quota thresholds: succeeds (true) only if the stored list still
   * equals `expected`, so of two concurrent checks only one emits an alert.
   */
  casQuotaAlerts(ownerId: string, expected: readonly number[], next: readonly number[]): Promise<boolean>;
}
