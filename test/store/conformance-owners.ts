import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Store } from '../../src/store/types.js';
import { randomName } from '../helpers/env.js';

/** Owners and link codes; `stores()` gives two stores on one database (as two processes). */
export function ownerConformance(stores: () => { store: Store; other: Store }): void {
  test('owners: upsert creates with defaults, patches keep absent fields, list is in id order', async () => {
    const { store, other } = stores();
    const id = randomName('owner');
    const before = Date.now();
    const created = await store.owners.upsert(id, {});
    assert.deepEqual(
      { ...created, createdAt: 0, updatedAt: 0 },
      {
        id,
        email: null,
        lineUserId: null,
        lineFollowing: false,
        quotaBytes: null,
        timezone: 'UTC',
        quietHours: null,
        events: null,
        quotaAlerts: [],
        createdAt: 0,
        updatedAt: 0,
      },
    );
    assert.ok(created.createdAt instanceof Date && created.createdAt.getTime() >= before - 5);
    assert.deepEqual(await other.owners.get(id), created);

    const patched = await other.owners.upsert(id, {
      email: 'a@example.com',
      quotaBytes: 6_000_000_000,
      timezone: 'Asia/Tokyo',
      quietHours: { start: '22:00', end: '07:00' },
      events: ['file.failed', 'summary.daily'],
    });
    assert.equal(patched.email, 'a@example.com');
    assert.equal(patched.quotaBytes, 6_000_000_000);
    assert.equal(patched.timezone, 'Asia/Tokyo');
    assert.deepEqual(patched.quietHours, { start: '22:00', end: '07:00' });
    assert.deepEqual(patched.events, ['file.failed', 'summary.daily']);
    assert.equal(patched.createdAt.getTime(), created.createdAt.getTime());
    assert.ok(patched.updatedAt.getTime() >= created.updatedAt.getTime());

    const again = await store.owners.upsert(id, { events: null, quotaBytes: null });
    assert.equal(again.email, 'a@example.com', 'absent field kept');
    assert.equal(again.timezone, 'Asia/Tokyo');
    assert.equal(again.events, null);
    assert.equal(again.quotaBytes, null);
    assert.deepEqual(again.quietHours, { start: '22:00', end: '07:00' });
    assert.deepEqual(await store.owners.get(id), again);

    const newcomer = await store.owners.upsert(randomName('owner'), { email: 'n@example.com', timezone: 'Europe/Berlin' });
    assert.equal(newcomer.email, 'n@example.com');
    assert.equal(newcomer.timezone, 'Europe/Berlin');

    const listed = await other.owners.list();
    const ids = listed.map((o) => o.id);
    assert.deepEqual(ids, [...ids].sort());
    assert.ok(ids.includes(id) && ids.includes(newcomer.id));
    assert.equal(await store.owners.get(randomName('nobody')), null);
  });

  test('owners: LINE linking, follow state, and lookup by LINE user id', async () => {
    const { store, other } = stores();
    const id = randomName('owner');
    await store.owners.upsert(id, {});
    const lineUser = `U${randomName('x')
      .replace(/[^0-9a-f]/g, '')
      .padEnd(32, '0')
      .slice(0, 32)}`;
    assert.equal(await store.owners.findByLineUserId(lineUser), null);
    await store.owners.setLineUser(id, lineUser);
    let o = await other.owners.findByLineUserId(lineUser);
    assert.equal(o?.id, id);
    assert.equal(o?.lineFollowing, true);

    assert.equal(await store.owners.setLineFollowing(lineUser, false), 1);
    assert.equal((await store.owners.get(id))?.lineFollowing, false);
    assert.equal(await store.owners.setLineFollowing(lineUser, true), 1);
    assert.equal((await store.owners.get(id))?.lineFollowing, true);
    assert.equal(await store.owners.setLineFollowing('U' + '0'.repeat(32), false), 0);

    await store.owners.setLineUser(id, null);
    o = await store.owners.get(id);
    assert.equal(o?.lineUserId, null);
    assert.equal(o?.lineFollowing, false);
    assert.equal(await store.owners.findByLineUserId(lineUser), null);
    // A PUT that sets the LINE user links it too.
    assert.equal((await store.owners.upsert(id, { lineUserId: lineUser })).lineFollowing, true);
  });

  test('owners: LINE events apply once and in order: a replayed or older event changes nothing', async () => {
    const { store, other } = stores();
    const id = randomName('owner');
    await store.owners.upsert(id, {});
    const lineUser = `U${randomName('y')
      .replace(/[^0-9a-f]/g, '')
      .padEnd(32, '1')
      .slice(0, 32)}`;
    const t0 = new Date('2026-01-01T00:00:00Z');
    const at = (s: number) => new Date(t0.getTime() + s * 1000);
    await store.owners.setLineUser(id, lineUser, at(0));
    assert.equal(await store.owners.setLineFollowing(lineUser, false, at(20)), 1);
    // An older follow (a replay of one sent before the unfollow) is ignored, by either process.
    assert.equal(await other.owners.setLineFollowing(lineUser, true, at(10)), 0);
    assert.equal((await store.owners.get(id))?.lineFollowing, false);
    // Equal or newer applies.
    assert.equal(await other.owners.setLineFollowing(lineUser, false, at(20)), 1);
    assert.equal(await other.owners.setLineFollowing(lineUser, true, at(30)), 1);
    assert.equal((await store.owners.get(id))?.lineFollowing, true);
    // Without a time (an operator's change) it always applies.
    assert.equal(await store.owners.setLineFollowing(lineUser, false), 1);
    // Linking again resets the clock to the linking event.
    await store.owners.setLineUser(id, lineUser, at(5));
    assert.equal(await store.owners.setLineFollowing(lineUser, false, at(6)), 1);

    // webhookEventIds: claimed once across processes; released ones can be claimed again; old ones are forgotten.
    const eventId = randomName('01HZEVENT');
    const now = new Date();
    assert.equal(await store.owners.claimLineEvent(eventId, now, 60_000), true);
    assert.equal(await other.owners.claimLineEvent(eventId, now, 60_000), false);
    const racers = await Promise.all(Array.from({ length: 5 }, (_, i) => (i % 2 ? store : other).owners.claimLineEvent(`${eventId}-race`, now, 60_000)));
    assert.equal(racers.filter(Boolean).length, 1);
    await store.owners.releaseLineEvent(eventId);
    assert.equal(await other.owners.claimLineEvent(eventId, now, 60_000), true);
    assert.equal(await store.owners.claimLineEvent(eventId, new Date(now.getTime() + 120_000), 60_000), true, 'forgotten after its retention');
  });

  test('owners: a link code is taken once, only before it expires, and a new code replaces the old', async () => {
    const { store, other } = stores();
    const id = randomName('owner');
    await store.owners.upsert(id, {});
    const now = new Date();
    const soon = new Date(now.getTime() + 60_000);
    const first = randomName('code');
    await store.owners.createLinkCode(id, first, soon);
    const second = randomName('code');
    await store.owners.createLinkCode(id, second, soon);
    assert.equal(await store.owners.consumeLinkCode(first, now), null, 'replaced code');
    assert.equal(await other.owners.consumeLinkCode(second, now), id);
    assert.equal(await store.owners.consumeLinkCode(second, now), null, 'second use');
    assert.equal(await store.owners.consumeLinkCode(randomName('code'), now), null);

    const expiring = randomName('code');
    await store.owners.createLinkCode(id, expiring, soon);
    assert.equal(await store.owners.consumeLinkCode(expiring, soon), null, 'expired at its expiry time');

    const raced = randomName('code');
    await store.owners.createLinkCode(id, raced, soon);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? other : store).owners.consumeLinkCode(raced, now)));
    assert.deepEqual(
      results.filter((r) => r !== null),
      [id],
    );
  });

  test('owners: casQuotaAlerts compares sets and lets exactly one of 10 racers through', async () => {
    const { store, other } = stores();
    const id = randomName('owner');
    await store.owners.upsert(id, { quotaBytes: 1000 });
    assert.equal(await store.owners.casQuotaAlerts(id, [80], [80, 90]), false, 'stale expectation');
    assert.equal(await store.owners.casQuotaAlerts(id, [], [90, 80]), true);
    assert.deepEqual((await other.owners.get(id))?.quotaAlerts, [80, 90]);
    assert.equal(await other.owners.casQuotaAlerts(id, [90, 80], [80, 90, 100]), true, 'order does not matter');
    assert.equal(await store.owners.casQuotaAlerts(randomName('nobody'), [], [80]), false);

    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? other : store).owners.casQuotaAlerts(id, [80, 90, 100], [])));
    assert.equal(results.filter(Boolean).length, 1);
    assert.deepEqual((await store.owners.get(id))?.quotaAlerts, []);
  });

  test('owners: the address map sets, replaces and removes per channel, and leaves the owner record as it was', async () => {
    const { store, other } = stores();
    const id = randomName('owner');
    const created = await store.owners.upsert(id, { email: 'm@example.com' });
    assert.deepEqual(await store.owners.addresses(id), {});
    await store.owners.setAddresses(id, { slack: 'https://hooks.slack.com/services/T1/B1/x', teams: 'https://t.example/1' });
    assert.deepEqual(await other.owners.addresses(id), { slack: 'https://hooks.slack.com/services/T1/B1/x', teams: 'https://t.example/1' });
    await other.owners.setAddresses(id, { slack: 'https://hooks.slack.com/services/T1/B1/y', teams: null });
    assert.deepEqual(await store.owners.addresses(id), { slack: 'https://hooks.slack.com/services/T1/B1/y' });
    await store.owners.setAddresses(id, {});
    assert.deepEqual(await store.owners.addresses(id), { slack: 'https://hooks.slack.com/services/T1/B1/y' });
    const after = await store.owners.get(id);
    assert.deepEqual({ ...after, updatedAt: 0 }, { ...created, updatedAt: 0 });
    assert.deepEqual(await store.owners.addresses(randomName('nobody')), {});
  });
}
