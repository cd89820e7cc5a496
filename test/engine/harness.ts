import { Agenda, type AgendaOptions } from 'agenda';

import type { Config } from '../../src/config.js';
import { createEngineBackend } from '../../src/engine/backends.js';
import { createLogger } from '../../src/logger.js';

/** What a backend test file hands the shared suite. */
export interface EngineTarget {
  readonly database: Config['database'];
  readonly redisUrl?: string | undefined;
  /** Whether a save in one process wakes a worker in another (false: the backend polls). */
  readonly crossProcessWakeups: boolean;
  teardown(): Promise<void>;
}

/** The engine settings this suite (and bench/engine.ts) recommends; see the report in bench/engine.ts. */
export const RECOMMENDED = { concurrency: 20, lockLimit: 40 } as const;

/** Agenda instances on their own backends (own connections), all stopped by `closeAll()`. */
export class AgendaPool {
  private readonly open = new Set<Agenda>();
  constructor(private readonly target: () => EngineTarget) {}

  async make(options: Partial<Omit<AgendaOptions, 'backend'>> = {}): Promise<Agenda> {
    const { database, redisUrl } = this.target();
    const { backend, notificationChannel } = await createEngineBackend(database, { log: createLogger('silent'), redisUrl });
    const agenda = new Agenda({
      backend,
      ...(notificationChannel ? { notificationChannel } : {}),
      processEvery: 5000,
      defaultLockLimit: RECOMMENDED.lockLimit,
      // Agenda keeps a ref'd timer of max(processEvery, lockLifetime) / 2 per job run, even after
      // the run ends; the default 10 min lifetime would hold the test process open for 5 min.
      defaultLockLifetime: 10_000,
      ...options,
    });
    await agenda.ready;
    this.open.add(agenda);
    return agenda;
  }

  async close(agenda: Agenda): Promise<void> {
    this.open.delete(agenda);
    // stop() only disconnects a started instance; never-started ones disconnect their backend here.
    if (agenda.isActiveJobProcessor()) await agenda.stop();
    else await (agenda as unknown as { backend: { disconnect(): Promise<void> } }).backend.disconnect();
  }

  async closeAll(): Promise<void> {
    for (const agenda of [...this.open]) await this.close(agenda).catch(() => undefined);
  }
}

export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
