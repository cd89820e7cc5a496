import { BaseNotificationChannel, type JobNotification, type JobStateNotification, toJobId } from 'agenda';

import type { Logger } from '../../logger.js';
import type { SqliteJobRepository } from './repository.js';

export interface SqliteChannelOptions {
  /**
   * How often the channel checks whether another process committed to the file, ms
   * (default 20). A check is one `PRAGMA data_version` on the open connection; the wake-up
   * table is read only when that number moved. Every 5 ms, the checks took 0.7 % of a core on
   * the event loop and woke it 200 times a second while files were processed (measured).
   */
  readonly pollMs?: number;
  readonly log?: Logger;
}

/** Every connected channel of this process, by database file: in-process saves wake them at once. */
const channelsByFile = new Map<string, Set<SqliteNotificationChannel>>();

/**
 * Agenda's job wake-ups for processes sharing one SQLite file, without a server.
 *
 * In-process: publish() hands the notification to every connected channel on the same file
 * in this process, synchronously, like Agenda's InMemoryNotificationChannel.
 * Cross-process: every save that leaves a job due bumps `<table>_wakeups` (one row per job
 * name) in the save's own transaction; each channel watches `PRAGMA data_version`, which
 * changes when another connection commits, and on a change reads the rows newer than the last
 * it saw. A job saved by an API process thus starts on a worker within ~pollMs, not at the
 * next poll. State events (start/success/…) stay in-process.
 */
export class SqliteNotificationChannel extends BaseNotificationChannel {
  private timer: NodeJS.Timeout | undefined;
  private dataVersion = -1;
  private lastSeq = 0;
  private readonly pollMs: number;

  constructor(
    private readonly repo: SqliteJobRepository,
    private readonly fileKey: string,
    private readonly options: SqliteChannelOptions = {},
  ) {
    super({ channelName: `sqlite:${fileKey}` });
    this.pollMs = Math.max(1, options.pollMs ?? 20);
  }

  async connect(): Promise<void> {
    this.clearReconnect();
    if (this._state === 'connected') return;
    if (!this.repo.isConnected) await this.repo.connect();
    this.dataVersion = this.readDataVersion();
    this.lastSeq = this.repo.prep<{ s: number | null }>(`SELECT MAX(seq) AS s FROM "${this.repo.wakeupTable}"`).get()!.s ?? 0;
    let peers = channelsByFile.get(this.fileKey);
    if (!peers) channelsByFile.set(this.fileKey, (peers = new Set()));
    peers.add(this);
    this.timer = setInterval(() => this.check(), this.pollMs);
    this.timer.unref();
    this.setState('connected');
  }

  async disconnect(): Promise<void> {
    this.clearReconnect();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const peers = channelsByFile.get(this.fileKey);
    peers?.delete(this);
    if (peers?.size === 0) channelsByFile.delete(this.fileKey);
    this.handlers.clear();
    this.stateHandlers.clear();
    this.setState('disconnected');
  }

  async publish(notification: JobNotification): Promise<void> {
    if (this._state !== 'connected') throw new Error('Cannot publish: channel not connected');
    await Promise.all([...(channelsByFile.get(this.fileKey) ?? [])].map((ch) => ch.notifyHandlers(notification)));
  }

  async publishState(notification: JobStateNotification): Promise<void> {
    if (this._state !== 'connected') throw new Error('Cannot publish state: channel not connected');
    await Promise.all([...(channelsByFile.get(this.fileKey) ?? [])].map((ch) => ch.notifyStateHandlers(notification)));
  }

  private readDataVersion(): number {
    return this.repo.prep('PRAGMA data_version').pluck().get() as number;
  }

  /** One timer tick: nothing to do unless another connection committed since the last tick. */
  private check(): void {
    if (!this.repo.isConnected || this.handlers.size === 0) return;
    try {
      const version = this.readDataVersion();
      if (version === this.dataVersion) return;
      this.dataVersion = version;
      const rows = this.repo
        .prep<{ name: string; seq: number; next_run_at: number | null }>(
          `SELECT name, seq, next_run_at FROM "${this.repo.wakeupTable}" WHERE seq > ? ORDER BY seq`,
        )
        .all(this.lastSeq);
      for (const row of rows) {
        this.lastSeq = Math.max(this.lastSeq, row.seq);
        void this.notifyHandlers({
          jobId: toJobId(''),
          jobName: row.name,
          nextRunAt: row.next_run_at === null ? null : new Date(row.next_run_at),
          priority: 0,
          timestamp: new Date(),
          source: 'sqlite-wakeup',
        });
      }
    } catch (err) {
      // An 'error' event with no listener would throw; Agenda does not listen on channels.
      if (this.listenerCount('error') > 0) this.emit('error', err);
      else this.options.log?.warn({ err }, 'sqlite wake-up check failed');
    }
  }
}
