import { hostname } from 'node:os';

import type { Engine } from '../engine/engine.js';
import { toError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/types.js';
import { VERSION } from '../version.js';
import type { Controls } from './controls.js';

/** A worker row with no beat for this long is removed ("gone"). */
const GONE_AFTER_MS = 86_400_000;

export interface HeartbeatOptions {
  readonly store: Store;
  readonly engine: Engine;
  readonly controls: Controls;
  /** The engine's process name: `${host}:${pid}:${role}`. */
  readonly id: string;
  readonly role: string;
  /** WORKER_HEARTBEAT_MS. */
  readonly intervalMs: number;
  readonly log: Logger;
}

export interface Heartbeat {
  /** One beat now (also what the timer runs). */
  beat(): Promise<void>;
  /** Stop beating and remove this process's row: it is gone, not stale. */
  stop(): Promise<void>;
}

/**
 * Every process records itself in store.workers and refreshes the row every intervalMs with what
 * it runs right now. Each beat also:
 * - releases at once the locks of workers that missed three beats (stale), so their jobs start
 *   again elsewhere instead of after their lock lifetime (up to the job's time limit + 30 s);
 * - re-applies the stored pauses (an enqueue that raced a pause stored an enabled job);
 * - removes workers not seen for a day.
 */
export async function startHeartbeat(options: HeartbeatOptions): Promise<Heartbeat> {
  const { store, engine, controls, id, log } = options;
  const startedAt = new Date();
  const served = engine.served;
  let beating: Promise<void> | undefined;

  async function beatOnce(): Promise<void> {
    const now = new Date();
    await store.workers.beat(
      {
        id,
        host: hostname(),
        pid: process.pid,
        role: options.role,
        jobs: served.map((j) => j.definition.name),
        concurrency: served.reduce((n, j) => n + j.options.concurrency, 0),
        running: engine.runningJobs(),
        startedAt,
        version: VERSION,
        heartbeatMs: options.intervalMs,
      },
      now,
    );
    for (const w of await store.workers.list(now)) {
      if (w.id === id || w.state !== 'stale' || w.locksReleasedAt !== null) continue;
      const released = await engine.maintenance.releaseLocksOf(w.id, now);
      await store.workers.markReleased(w.id, now);
      log.warn({ worker: w.id, lastBeat: w.heartbeatAt, released }, 'worker missed 3 heartbeats: its locks were released');
    }
    await controls.apply();
    await store.workers.purge(new Date(now.getTime() - GONE_AFTER_MS));
  }

  const beat = () =>
    (beating ??= beatOnce()
      .catch((err: unknown) => log.warn({ err: toError(err) }, 'worker heartbeat failed'))
      .finally(() => (beating = undefined)));

  await beat();
  const timer = setInterval(() => void beat(), options.intervalMs);
  timer.unref();
  return {
    beat,
    async stop() {
      clearInterval(timer);
      await beating;
      await store.workers.remove(id).catch((err: unknown) => log.warn({ err: toError(err) }, 'could not remove this worker from the registry'));
    },
  };
}
