import type { Engine } from '../engine/engine.js';
import { toError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/types.js';
import { scheduleDelivery } from './delivery.js';

const EVERY_MS = 30_000;
/** Rows due this long ago with no worker on them lost their delivery job (a crash between queueing and scheduling). */
const GRACE_MS = 15_000;

/**
 * Re-schedules outbox rows whose delivery job went missing (a crash between a commit and its
 * scheduling: the transactional outbox relies on this). Scheduling is a unique upsert per
 * notification, so a row that still has its job is unaffected and nothing is sent twice.
 * An in-process timer: losing it with the process loses nothing, the next worker sweeps.
 */
export function startOutboxSweeper(store: Store, engine: Engine, log: Logger): { stop(): void } {
  let running = false;
  const sweep = async () => {
    if (running) return;
    running = true;
    try {
      // MongoDB: entries a crash left on a file document (committed with its final status) go
      // into the outbox first, and get their jobs at once.
      const materialized = await store.materializeOutbox(500);
      for (const row of materialized) await scheduleDelivery(engine.enqueue, row, row.notBefore);
      if (materialized.length > 0) log.info({ count: materialized.length }, 'outbox sweeper materialized pending notifications');
      const due = await store.outbox.findDue(new Date(Date.now() - GRACE_MS), 500);
      for (const row of due) {
        await scheduleDelivery(engine.enqueue, row);
      }
      if (due.length > 0) log.info({ count: due.length }, 'outbox sweeper re-scheduled deliveries');
    } catch (err) {
      log.warn({ err: toError(err) }, 'outbox sweep failed');
    } finally {
      running = false;
    }
  };
  // Soon after start-up, and again once the rows a crash just left have passed the grace: a
  // restarted worker sends them within ~20 s instead of waiting for the first full interval.
  const early = [setTimeout(() => void sweep(), 1_000), setTimeout(() => void sweep(), GRACE_MS + 2_000)];
  const timer = setInterval(() => void sweep(), EVERY_MS);
  for (const t of early) t.unref();
  timer.unref();
  return {
    stop() {
      for (const t of early) clearTimeout(t);
      clearInterval(timer);
    },
  };
}
