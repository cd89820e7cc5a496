import { MongoBackend, MongoChangeStreamNotificationChannel, MongoClient } from '@agendajs/mongo-backend';
import { RedisNotificationChannel } from '@agendajs/redis-backend';
import type { AgendaBackend, NotificationChannel } from 'agenda';

import type { Logger } from '../../logger.js';
import { connectOnce } from '../connect-once.js';

export interface MongoEngineOptions {
  readonly url: string;
  /** Redis pub/sub for wake-ups; preferred over change streams when set. */
  readonly redisUrl?: string | undefined;
  readonly log: Logger;
}

export interface MongoEngine {
  readonly backend: AgendaBackend;
  /** Redis pub/sub, or a change stream on a replica set; undefined → Agenda polls. */
  readonly channel: NotificationChannel | undefined;
  readonly channelKind: 'redis' | 'change-stream' | 'polling';
}

/**
 * The official MongoDB backend on a client of ours, plus the best wake-up channel available:
 * Redis when REDIS_URL is set, else a change stream when the server is a replica set (change
 * streams need one), else none — Agenda then polls every processEvery.
 *
 * Also creates a partial unique index on `name` for `type: 'single'` (every()) jobs: upstream
 * relies on an upsert, which MongoDB can turn into two inserts when two processes race; with the
 * index the server retries the loser as an update.
 */
export async function createMongoBackend(options: MongoEngineOptions): Promise<MongoEngine> {
  const client = new MongoClient(options.url);
  await client.connect();
  const db = client.db();
  let channel: NotificationChannel | undefined;
  let channelKind: MongoEngine['channelKind'] = 'polling';
  try {
    if (options.redisUrl) {
      channel = new RedisNotificationChannel({ connectionString: options.redisUrl });
      channelKind = 'redis';
    } else {
      const hello = await db.admin().command({ hello: 1 });
      if (typeof hello.setName === 'string') {
        channel = new MongoChangeStreamNotificationChannel({ db });
        channelKind = 'change-stream';
      }
    }
  } catch (err) {
    await client.close();
    throw err;
  }
  const official = new MongoBackend({ mongo: db });
  const connect = async () => {
    await client.connect();
    await official.connect();
    try {
      await db.collection('agendaJobs').createIndex({ name: 1 }, { name: 'nightshift_single_job', unique: true, partialFilterExpression: { type: 'single' } });
    } catch (err) {
      options.log.warn({ err }, 'could not create the unique index on every() jobs (duplicate rows already there?)');
    }
  };
  const backend: AgendaBackend = {
    name: 'MongoDB',
    repository: official.repository,
    logger: official.logger,
    ownsConnection: true,
    ...connectOnce(connect, async () => {
      await official.disconnect();
      await client.close();
    }),
  };
  options.log.debug({ channel: channelKind }, 'MongoDB job backend');
  return { backend, channel, channelKind };
}
