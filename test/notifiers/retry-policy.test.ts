import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { formatDuration, parseDuration } from '../../src/config/duration.js';
import { ConfigError } from '../../src/config/section.js';
import { nextRetry, type RetryPolicy } from '../../src/notify/backoff.js';
import { loadConfig } from '../../src/registry.js';

const HOUR = 3_600_000;
const DEFAULT: RetryPolicy = { forMs: 24 * HOUR, maxDelayMs: HOUR, firstDelayMs: 2_000 };

describe('notification retry schedule', () => {
  test('NOTIFY_RETRY_FOR defaults to 24h and NOTIFY_RETRY_MAX_DELAY to 1h; both read durations', () => {
    assert.deepEqual(loadConfig({}).notify.retry, DEFAULT);
    assert.deepEqual(loadConfig({ NOTIFY_RETRY_FOR: '2h30m', NOTIFY_RETRY_MAX_DELAY: '90s' }).notify.retry, {
      forMs: 2.5 * HOUR,
      maxDelayMs: 90_000,
      firstDelayMs: 2_000,
    });
    assert.equal(parseDuration('1d'), 24 * HOUR);
    assert.equal(parseDuration('250ms'), 250);
    for (const bad of ['', '24', 'h', '1 day', '-1h', '1h-2m']) assert.equal(parseDuration(bad), undefined, bad);
    assert.equal(formatDuration(24 * HOUR), '24h');
    assert.equal(formatDuration(3 * 24 * HOUR), '3d');
    assert.equal(formatDuration(90_000), '90s');
  });

  test('a bad value stops start-up naming the key', () => {
    const keysOf = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        assert.ok(err instanceof ConfigError);
        return err.issues.map((i) => i.key);
      }
      return [];
    };
    assert.deepEqual(keysOf({ NOTIFY_RETRY_FOR: 'a day' }), ['NOTIFY_RETRY_FOR']);
    assert.deepEqual(keysOf({ NOTIFY_RETRY_FOR: '500ms' }), ['NOTIFY_RETRY_FOR']);
    assert.deepEqual(keysOf({ NOTIFY_RETRY_MAX_DELAY: 'soon' }), ['NOTIFY_RETRY_MAX_DELAY']);
    assert.deepEqual(keysOf({ NOTIFY_RETRY_FOR: '10m', NOTIFY_RETRY_MAX_DELAY: '1h' }), ['NOTIFY_RETRY_MAX_DELAY']);
  });

  test('capped exponential backoff with jitter spans the whole window, then gives up', () => {
    const t0 = new Date('2030-01-01T00:00:00Z');
    for (const r of [0, 0.5, 0.999]) {
      let now = t0;
      let attempts = 1;
      let decision = nextRetry(DEFAULT, attempts, t0, now, undefined, () => r);
      const delays: number[] = [];
      while ('at' in decision) {
        delays.push(decision.at.getTime() - now.getTime());
        now = decision.at;
        attempts++;
        decision = nextRetry(DEFAULT, attempts, t0, now, undefined, () => r);
      }
      assert.ok(now.getTime() - t0.getTime() >= 24 * HOUR, 'retried for the whole 24 h');
      assert.ok(now.getTime() - t0.getTime() <= 24 * HOUR + 1, 'the last attempt is at the end of the window');
      assert.match(decision.giveUp, /gave up after \d+ attempts over 1440 min/);
      assert.ok(delays[0]! >= 1_000 && delays[0]! <= 2_000, `first retry after 1-2 s (${delays[0]})`);
      assert.ok(Math.max(...delays) <= HOUR, 'never more than the cap');
      assert.ok(
        delays.slice(0, 8).every((d, i) => i === 0 || d >= delays[i - 1]!),
        'growing at first',
      );
      assert.ok(attempts > 20 && attempts < 60, `${attempts} attempts in a day`);
    }
  });

  test('Retry-After wins over a shorter backoff; the window still ends on time', () => {
    const t0 = new Date('2030-01-01T00:00:00Z');
    const d = nextRetry(DEFAULT, 1, t0, t0, 120_000, () => 0);
    assert.ok('at' in d && d.at.getTime() - t0.getTime() === 120_000);
    const late = new Date(t0.getTime() + 24 * HOUR - 60_000);
    const last = nextRetry(DEFAULT, 30, t0, late, undefined, () => 1);
    assert.ok('at' in last && last.at.getTime() === t0.getTime() + 24 * HOUR, 'clamped to the end of the window');
    assert.ok('giveUp' in nextRetry(DEFAULT, 31, t0, new Date(t0.getTime() + 24 * HOUR), undefined));
  });
});
