import { PostgresJobLogger, PostgresNotificationChannel } from '@agendajs/postgres-backend';
import type { AgendaBackend } from 'agenda';
import pg from 'pg';

import { connectOnce } from '../connect-once.js';
import { GuardedPostgresJobRepository, type GuardedRepositoryOptions } from './repository.js';

/** Any fixed 64-bit key: serialises schema creation among processes starting at once. */
const SCHEMA_LOCK_KEY = '7209513374265519';
/** LISTEN/NOTIFY channel of job wake-ups. */
export const WAKEUP_CHANNEL = 'agenda_jobs';

/**
 * Wake-ups from the database itself: a row that becomes runnable (unlocked, enabled, with a
 * nextRunAt) by insert, reschedule, enable, unlock, or a finish that sets the next run (repeat,
 * retry backoff) notifies every listening worker, in the writer's transaction. So a process that
 * only enqueues (an API that never calls agenda.start(), whose channel is not connected and so
 * publishes nothing) still wakes the workers, and a retry wakes any worker, not only the next poll.
 * The payload is what PostgresNotificationChannel parses.
 */
const WAKEUP_TRIGGER_SQL = `
  CREATE OR REPLACE FUNCTION nightshift_agenda_wakeup() RETURNS trigger AS $$
  BEGIN
    IF TG_OP = 'UPDATE' AND OLD.locked_at IS NULL AND NOT OLD.disabled
       AND OLD.next_run_at IS NOT DISTINCT FROM NEW.next_run_at THEN
      RETURN NULL;
    END IF;
    PERFORM pg_notify(TG_ARGV[0], json_build_object('jobId', NEW.id, 'jobName', NEW.name,
      'nextRunAt', NEW.next_run_at, 'priority', NEW.priority, 'timestamp', now(), 'source', 'db')::text);
    RETURN NULL;
  END $$ LANGUAGE plpgsql;
  DROP TRIGGER IF EXISTS agenda_jobs_wakeup ON agenda_jobs;
  CREATE TRIGGER agenda_jobs_wakeup AFTER INSERT OR UPDATE ON agenda_jobs FOR EACH ROW
    WHEN (NEW.next_run_at IS NOT NULL AND NEW.locked_at IS NULL AND NOT NEW.disabled)
    EXECUTE FUNCTION nightshift_agenda_wakeup('${WAKEUP_CHANNEL}');`;

/**
 * The official PostgreSQL backend (LISTEN/NOTIFY channel, job logger) on a
 * GuardedPostgresJobRepository, plus the wake-up trigger above. Schema creation runs under an
 * advisory lock: concurrent `CREATE TABLE IF NOT EXISTS` / `CREATE OR REPLACE FUNCTION` from
 * processes starting together on a fresh database fail with duplicate-key or "tuple concurrently
 * updated" errors. Agenda's own publish() after each save is redundant with the trigger: the
 * factory drops it (RefillOnCompleteChannel `forwardPublish: false`).
 */
export function createPostgresBackend(options: GuardedRepositoryOptions): AgendaBackend {
  const repository = new GuardedPostgresJobRepository(options);
  const notificationChannel = new PostgresNotificationChannel({ channelName: WAKEUP_CHANNEL, reconnect: { enabled: true } });
  const logger = new PostgresJobLogger({});
  const connect = async () => {
    // A connection of its own: the pool may not exist yet (it is re-created after a disconnect).
    const lock = new pg.Client({ connectionString: options.url });
    lock.on('error', () => undefined);
    await lock.connect();
    try {
      await lock.query('SELECT pg_advisory_lock($1)', [SCHEMA_LOCK_KEY]);
      await repository.connect();
      await repository.getPool().query(WAKEUP_TRIGGER_SQL);
      await logger.setPool(repository.getPool());
    } finally {
      await lock.end().catch(() => undefined);
    }
    notificationChannel.setPool(repository.getPool());
  };
  return {
    name: 'PostgreSQL',
    repository,
    notificationChannel,
    logger,
    ownsConnection: true,
    ...connectOnce(connect, () => repository.disconnect()),
  };
}
