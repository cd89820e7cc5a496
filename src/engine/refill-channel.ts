import {
  type JobNotification,
  type JobStateNotification,
  type NotificationChannel,
  type NotificationChannelState,
  type NotificationHandler,
  type StateNotificationHandler,
  toJobId,
} from 'agenda';

/** Timed wake-ups only for jobs due within this long; later ones are the poll's. */
const MAX_TIMED_WAKE_MS = 60_000;
/** Bound on pending timed wake-ups (a burst of scheduled jobs must not create a timer each). */
const MAX_TIMED_WAKES = 1000;

export interface RefillOptions {
  /**
   * Forward job state events (start, progress, success, fail, complete, retry) to the inner
   * channel so other processes can observe them (`agenda.on('success', …, remote)`). Each job
   * run publishes three; on PostgreSQL that is three NOTIFYs per job, which halved throughput
   * (measured). Default false: events stay in the process that ran the job.
   */
  readonly broadcastStates?: boolean;
  /**
   * Pass Agenda's publish() after each save to the inner channel (default true). False when
   * the database announces saves itself (the PostgreSQL wake-up trigger).
   */
  readonly forwardPublish?: boolean;
  /**
   * Refills of one job name in flight at once (default 4). Each locks jobs one query at a time
   * until the lock limit, so this bounds both the lock rate (parallelRefills / query latency)
   * and the overshoot past the limit (locked, then unlocked again by Agenda).
   */
  readonly parallelRefills?: number;
}

/**
 * Wraps any notification channel (ours on SQLite, LISTEN/NOTIFY, Redis, change streams) with
 * local wake-ups Agenda needs but does not make:
 *
 * - Refill on completion: each finished job wakes this process's own job processor for that
 *   job name. With a lock limit (needed so one worker does not lock a whole backlog before
 *   starting anything), Agenda refills its locked-job buffer only on a poll tick or a wake-up;
 *   without this a worker that drained its buffer idles until the next tick with thousands of
 *   jobs queued. Local (no I/O), on setImmediate, after Agenda has released the finished slot.
 * - Timed wake: a job announced for the near future (a retry backoff, a short delay) is woken
 *   again once due, covering an Agenda timer race (see wakeAt).
 * - State events stay local unless broadcastStates; publish() can be dropped when the database
 *   announces saves itself (forwardPublish).
 */
export class RefillOnCompleteChannel implements NotificationChannel {
  private readonly local = new Set<NotificationHandler>();
  /** Timed wake-ups by time and job name (see wakeAt). */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Job names with refills in flight: how many, and whether another round was asked for meanwhile. */
  private readonly refilling = new Map<string, { running: number; again: boolean }>();
  private readonly parallelRefills: number;
  private readonly broadcastStates: boolean;
  private readonly forwardPublish: boolean;

  constructor(
    readonly inner: NotificationChannel,
    options: RefillOptions = {},
  ) {
    this.broadcastStates = options.broadcastStates ?? false;
    this.forwardPublish = options.forwardPublish ?? true;
    this.parallelRefills = Math.max(1, options.parallelRefills ?? 4);
  }

  get state(): NotificationChannelState {
    return this.inner.state;
  }

  connect(): Promise<void> {
    return this.inner.connect();
  }

  disconnect(): Promise<void> {
    this.local.clear();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    return this.inner.disconnect();
  }

  subscribe(handler: NotificationHandler): () => void {
    this.local.add(handler);
    const unsubscribe = this.inner.subscribe((n) => {
      if (n.nextRunAt) this.wakeAt(n.jobName, n.nextRunAt.getTime());
      return handler(n);
    });
    return () => {
      this.local.delete(handler);
      unsubscribe();
    };
  }

  async publish(notification: JobNotification): Promise<void> {
    if (this.forwardPublish) await this.inner.publish(notification);
  }

  async publishState(notification: JobStateNotification): Promise<void> {
    if (notification.type === 'complete') this.refill(notification);
    if (notification.type === 'retry' && notification.retryAt) this.wakeAt(notification.jobName, notification.retryAt.getTime());
    if (this.broadcastStates && this.inner.publishState) await this.inner.publishState(notification);
  }

  /**
   * At most parallelRefills refills per job name in flight; completions meanwhile ask for one
   * more round. Unbounded, twenty jobs finishing together start twenty fills that each see free
   * slots (in-flight locks are not counted yet), overshoot the limit, then unlock the surplus:
   * measured on PostgreSQL, 2.7 lock queries per job instead of about one.
   */
  private refill(done: JobStateNotification): void {
    const name = done.jobName;
    const state = this.refilling.get(name) ?? { running: 0, again: false };
    this.refilling.set(name, state);
    if (state.running >= this.parallelRefills) {
      state.again = true;
      return;
    }
    state.running += 1;
    const wake: JobNotification = { jobId: done.jobId, jobName: name, nextRunAt: null, priority: 0, timestamp: done.timestamp, source: done.source };
    const refill = async () => {
      do {
        state.again = false;
        await Promise.allSettled([...this.local].map(async (handler) => handler(wake)));
      } while (state.again && this.local.size > 0);
      state.running -= 1;
      if (state.running === 0) this.refilling.delete(name);
    };
    // allSettled never rejects: nothing is left unhandled.
    setImmediate(() => void refill());
  }

  /**
   * A second wake-up once a job announced for the near future is due. Agenda runs such a job
   * from a setTimeout(nextRunAt - now) and sets that timer once per job; Node fires about one
   * timer in twenty a millisecond before Date.now() reaches the target (measured), Agenda then
   * finds the job not yet due and the run waits for the next poll (a 150 ms retry took 5 s).
   * This wake, taken only once Date.now() has passed the time, makes Agenda look again.
   */
  private wakeAt(jobName: string, at: number): void {
    const delay = at - Date.now();
    const key = `${at}\u0000${jobName}`;
    if (delay <= 0 || delay > MAX_TIMED_WAKE_MS || this.timers.has(key) || this.timers.size >= MAX_TIMED_WAKES) return;
    const fire = () => {
      const left = at - Date.now();
      if (left >= 0) {
        this.timers.set(key, setTimeout(fire, left + 1).unref());
        return;
      }
      this.timers.delete(key);
      const wake: JobNotification = { jobId: toJobId(''), jobName, nextRunAt: new Date(at), priority: 0, timestamp: new Date(), source: 'timed-wake' };
      for (const handler of this.local) void Promise.resolve(handler(wake)).catch(() => undefined);
    };
    this.timers.set(key, setTimeout(fire, delay + 1).unref());
  }

  subscribeState(handler: StateNotificationHandler): () => void {
    return this.inner.subscribeState?.(handler) ?? (() => undefined);
  }

  on(event: 'stateChange', listener: (state: NotificationChannelState) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'stateChange' | 'error', listener: (arg: never) => void): this {
    (this.inner.on as (e: string, l: (arg: never) => void) => unknown).call(this.inner, event, listener);
    return this;
  }

  off(event: 'stateChange', listener: (state: NotificationChannelState) => void): this;
  off(event: 'error', listener: (error: Error) => void): this;
  off(event: 'stateChange' | 'error', listener: (arg: never) => void): this {
    (this.inner.off as (e: string, l: (arg: never) => void) => unknown).call(this.inner, event, listener);
    return this;
  }
}
