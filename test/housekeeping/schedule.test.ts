import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Agenda } from 'agenda';

import { createEngineBackend } from '../../src/engine/backends.js';
import { errorCode, ErrorCodes } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { loadConfig, registry } from '../../src/registry.js';
import { occurrenceOf } from '../../src/schedules/runs.js';
import { parseSchedules } from '../../src/schedules/spec.js';
import { findScheduleJob, syncSchedules } from '../../src/schedules/sync.js';
import { engineDatabase } from '../../src/service.js';
import { createStore } from '../../src/store/index.js';
import { createTempDir } from '../helpers/env.js';
import type { WorkerMessage } from './fixtures/schedule-worker.js';

const log = createLogger('silent');

describe('schedule config', () => {
  test('defaults: cleanup-stuck hourly, quota-check every 15 min, daily-summary at minute 5, UTC', () => {
    const s = loadConfig({}).schedules;
    assert.deepEqual(
      s.map((x) => [x.job, x.every, x.timezone]),
      [
        ['cleanup-stuck', '0 * * * *', 'UTC'],
        ['daily-summary', '5 * * * *', 'UTC'],
        ['quota-check', '*/15 * * * *', 'UTC'],
      ],
    );
  });

  test('overrides: cron with timezone, milliseconds, human interval, off', () => {
    const s = parseSchedules(
      {
        SCHEDULE_CLEANUP_STUCK: '30 2 * * *',
        SCHEDULE_CLEANUP_STUCK_TIMEZONE: 'Asia/Tokyo',
        SCHEDULE_QUOTA_CHECK: '90000',
        SCHEDULE_DAILY_SUMMARY: 'off',
        SCHEDULE_TIMEZONE: 'Europe/Paris',
      },
      registry.jobs,
    );
    assert.deepEqual(
      s.map((x) => [x.job, x.every, x.timezone]),
      [
        ['cleanup-stuck', '30 2 * * *', 'Asia/Tokyo'],
        ['daily-summary', null, 'Europe/Paris'],
        ['quota-check', 90000, 'Europe/Paris'],
      ],
    );
    assert.equal(parseSchedules({ SCHEDULE_QUOTA_CHECK: '10 minutes' }, registry.jobs)[2]?.every, '10 minutes');
  });

  test('a bad cron, interval or timezone fails start-up with CONFIG_INVALID naming each key', () => {
    let err: unknown;
    try {
      loadConfig({ SCHEDULE_CLEANUP_STUCK: '61 * * * *', SCHEDULE_QUOTA_CHECK: 'now and then', SCHEDULE_TIMEZONE: 'Mars/Olympus' });
    } catch (e) {
      err = e;
    }
    assert.equal(errorCode(err), ErrorCodes.CONFIG_INVALID);
    const msg = (err as Error).message;
    for (const key of ['SCHEDULE_CLEANUP_STUCK:', 'SCHEDULE_QUOTA_CHECK:', 'SCHEDULE_TIMEZONE:']) assert.match(msg, new RegExp(key));
  });

  test('occurrences: the latest cron tick in the schedule timezone, or the interval slot', () => {
    const at = new Date('2025-03-01T10:17:42.500Z');
    assert.equal(occurrenceOf({ every: '5 * * * *', timezone: 'UTC' }, at), '2025-03-01T10:05:00.000Z');
    assert.equal(occurrenceOf({ every: '0 9 * * *', timezone: 'Asia/Tokyo' }, at), '2025-03-01T00:00:00.000Z');
    assert.equal(occurrenceOf({ every: '5 * * * *', timezone: 'UTC' }, new Date('2025-03-01T10:05:00.000Z')), '2025-03-01T10:05:00.000Z');
    assert.equal(occurrenceOf({ every: 60_000, timezone: 'UTC' }, at), '2025-03-01T10:17:00.000Z');
  });
});

describe('schedules in Agenda (SQLite)', () => {
  let tmp: Awaited<ReturnType<typeof createTempDir>>;
  before(async () => {
    tmp = await createTempDir();
  });
  after(async () => {
    await tmp?.remove();
  });

  async function openAgenda(path: string): Promise<Agenda> {
    const backend = await createEngineBackend(engineDatabase({ kind: 'sqlite', path }), { log });
    const agenda = new Agenda({ backend: backend.backend, processEvery: 60_000 });
    await agenda.ready;
    return agenda;
  }

  test('a changed schedule updates the one stored job; off disables it; on again re-enables it', async () => {
    const agenda = await openAgenda(join(tmp.dir, 'change.db'));
    try {
      const first = parseSchedules({ SCHEDULE_CLEANUP_STUCK: '0 * * * *', SCHEDULE_DAILY_SUMMARY: 'off', SCHEDULE_QUOTA_CHECK: 'off' }, registry.jobs);
      assert.equal((await syncSchedules(agenda, first, log))['cleanup-stuck'], 'created');
      assert.equal((await syncSchedules(agenda, first, log))['cleanup-stuck'], 'unchanged');
      const changed = parseSchedules(
        { SCHEDULE_CLEANUP_STUCK: '30 * * * *', SCHEDULE_TIMEZONE: 'Asia/Tokyo', SCHEDULE_DAILY_SUMMARY: 'off', SCHEDULE_QUOTA_CHECK: 'off' },
        registry.jobs,
      );
      assert.equal((await syncSchedules(agenda, changed, log))['cleanup-stuck'], 'updated');
      const { jobs } = await agenda.queryJobs({ name: 'cleanup-stuck' });
      assert.equal(jobs.length, 1, 'never a second job');
      assert.equal(jobs[0]?.repeatInterval, '30 * * * *');
      assert.equal(jobs[0]?.repeatTimezone, 'Asia/Tokyo');
      assert.equal(jobs[0]?.nextRunAt?.getUTCMinutes(), 30);

      const off = parseSchedules({ SCHEDULE_CLEANUP_STUCK: 'off', SCHEDULE_DAILY_SUMMARY: 'off', SCHEDULE_QUOTA_CHECK: 'off' }, registry.jobs);
      assert.equal((await syncSchedules(agenda, off, log))['cleanup-stuck'], 'disabled');
      assert.equal((await findScheduleJob(agenda, 'cleanup-stuck'))?.disabled, true);
      assert.equal((await syncSchedules(agenda, changed, log))['cleanup-stuck'], 'updated');
      const back = await agenda.queryJobs({ name: 'cleanup-stuck' });
      assert.equal(back.jobs.length, 1);
      assert.equal(back.jobs[0]?.disabled, false);
    } finally {
      await agenda.stop();
    }
  });

  test('a worker started after missed occurrences runs the job once, then waits for the next one', async () => {
    const path = join(tmp.dir, 'missed.db');
    const agenda = await openAgenda(path);
    const schedules = parseSchedules({ SCHEDULE_CLEANUP_STUCK: '0 * * * *', SCHEDULE_DAILY_SUMMARY: 'off', SCHEDULE_QUOTA_CHECK: 'off' }, registry.jobs);
    try {
      await syncSchedules(agenda, schedules, log);
      const row = (await findScheduleJob(agenda, 'cleanup-stuck'))!;
      // Down for five hours: five hourly occurrences missed.
      await agenda.db.saveJob({ ...row, nextRunAt: new Date(Date.now() - 5 * 3_600_000) }, undefined);
    } finally {
      await agenda.stop();
    }

    const child = fork(fileURLToPath(new URL('./fixtures/schedule-worker.js', import.meta.url)), [], {
      env: {
        ...process.env,
        DATABASE_URL: `sqlite:${path}`,
        DATA_DIR: tmp.dir,
        SCHEDULE_DAILY_SUMMARY: 'off',
        SCHEDULE_QUOTA_CHECK: 'off',
        POLL_INTERVAL_MS: '200',
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const messages: WorkerMessage[] = [];
    child.on('message', (m) => {
      messages.push(m as WorkerMessage);
      if ('ready' in (m as object)) child.send('go');
    });
    const exited = new Promise((r) => child.on('exit', r));
    // Until the missed occurrence has run (a loaded machine may take longer than a few seconds to
    // start a worker), then long enough for a wrong second run of it to show.
    const deadline = Date.now() + 60_000;
    while (!messages.some((m) => 'ran' in m || 'error' in m) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 3_000));
    child.send('stop');
    await exited;
    assert.equal(
      messages.find((m) => 'error' in m),
      undefined,
    );
    assert.equal(messages.filter((m) => 'ran' in m).length, 1, 'one run for five missed occurrences');

    const store = await createStore({ kind: 'sqlite', path }, { log });
    const agenda2 = await openAgenda(path);
    try {
      const runs = await store.runs.list('cleanup-stuck', 10);
      assert.equal(runs.length, 1);
      assert.equal(runs[0]?.status, 'succeeded');
      const next = (await findScheduleJob(agenda2, 'cleanup-stuck'))!.nextRunAt!;
      assert.ok(next.getTime() > Date.now(), 'next run is the next hour, not another missed one');
      assert.equal(next.getUTCMinutes(), 0);
    } finally {
      await agenda2.stop();
      await store.close();
    }
  });
});
