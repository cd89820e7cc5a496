import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';

import { errorCode, ErrorCodes } from '../../src/errors.js';
import type { NewNotification, NotificationRecord } from '../../src/store/outbox-types.js';
import type { Store } from '../../src/store/types.js';
import { randomName } from '../helpers/env.js';

function newNotification(over: Partial<NewNotification> = {}): NewNotification {
  return {
    id: randomUUID(),
    key: randomName('key'),
    event: 'file.completed',
    channel: 'email',
    recipient: 'a@example.com',
    owner: 'alice',
    message: { title: 'Done', text: 'photo.jpg is ready', items: [] },
    notBefore: new Date(),
    ...over,
  };
}

const MINUTE = 60_000;

/** The notification outbox; `stores()` gives two stores on one database (as two processes). */
export function outboxConformance(stores: () => { store: Store; other: Store }): void {
  test('outbox: insert stores every field once per key; 10 racing inserts of one key create one row', async () => {
    const { store, other } = stores();
    const n = newNotification({ message: { title: 'ü', nested: { a: [1, 2] } }, digestKey: null });
    const before = Date.now();
    const first = await store.outbox.insert(n);
    assert.equal(first.created, true);
    const r = first.record;
    assert.deepEqual(
      [r.id, r.key, r.event, r.channel, r.recipient, r.owner, r.status, r.attempts, r.digestKey, r.lastError, r.response, r.sentAt],
      [n.id, n.key, n.event, n.channel, n.recipient, n.owner, 'queued', 0, null, null, null, null],
    );
    assert.deepEqual(r.message, n.message);
    assert.equal(r.notBefore.getTime(), n.notBefore.getTime());
    assert.ok(r.createdAt instanceof Date && r.createdAt.getTime() >= before - 5);
    assert.deepEqual(await other.outbox.get(n.id), r);
    const dup = await other.outbox.insert({ ...n, id: randomUUID(), message: { other: true } });
    assert.deepEqual(dup, { record: r, created: false });
    assert.equal(await store.outbox.get(randomUUID()), null);

    const key = randomName('key');
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? other : store).outbox.insert(newNotification({ key, id: randomUUID() }))));
    assert.equal(results.filter((x) => x.created).length, 1);
    assert.equal(new Set(results.map((x) => x.record.id)).size, 1);
  });

  test('outbox: claim honours notBefore and leases; 10 racing claims have one winner', async () => {
    const { store, other } = stores();
    const now = new Date();
    const later = new Date(now.getTime() + 10 * MINUTE);
    const { record } = await store.outbox.insert(newNotification({ notBefore: later }));
    assert.equal(await store.outbox.claim(record.id, now, MINUTE), null, 'not due yet');
    const claimed = await store.outbox.claim(record.id, later, MINUTE);
    assert.equal(claimed?.attempts, 1);
    assert.equal(await other.outbox.claim(record.id, new Date(later.getTime() + MINUTE - 1), MINUTE), null, 'lease held');
    const reclaimed = await other.outbox.claim(record.id, new Date(later.getTime() + MINUTE), MINUTE);
    assert.equal(reclaimed?.attempts, 2, 'an expired lease can be taken over');
    assert.equal(await store.outbox.claim(randomUUID(), later, MINUTE), null);

    for (let round = 0; round < 3; round++) {
      const { record: n } = await store.outbox.insert(newNotification({ notBefore: now }));
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? other : store).outbox.claim(n.id, now, MINUTE)));
      const winners = results.filter((x): x is NotificationRecord => x !== null);
      assert.equal(winners.length, 1);
      assert.equal(winners[0]?.attempts, 1);
    }
  });

  test('outbox: markFailed / markSent / markDead / requeue', async () => {
    const { store, other } = stores();
    const now = new Date();
    const { record } = await store.outbox.insert(newNotification({ notBefore: now }));
    assert.ok(await store.outbox.claim(record.id, now, MINUTE));
    const retryAt = new Date(now.getTime() + 5 * MINUTE);
    await store.outbox.markFailed(record.id, 'smtp 451', retryAt);
    let got = await other.outbox.get(record.id);
    assert.equal(got?.status, 'failed');
    assert.equal(got?.lastError, 'smtp 451');
    assert.equal(got?.notBefore.getTime(), retryAt.getTime());
    assert.equal(await store.outbox.claim(record.id, now, MINUTE), null, 'backing off');
    assert.equal((await store.outbox.claim(record.id, retryAt, MINUTE))?.attempts, 2, 'lease released by markFailed');
    const sentAt = new Date(retryAt.getTime() + 1000);
    await store.outbox.markSent(record.id, '250 queued as ABC', sentAt);
    got = await store.outbox.get(record.id);
    assert.equal(got?.status, 'sent');
    assert.equal(got?.response, '250 queued as ABC');
    assert.equal(got?.sentAt?.getTime(), sentAt.getTime());
    assert.equal(await store.outbox.claim(record.id, new Date(sentAt.getTime() + 10 * MINUTE), MINUTE), null, 'sent is final');
    assert.equal(await store.outbox.requeue(record.id, now), false, 'only dead rows requeue');

    const { record: d } = await store.outbox.insert(newNotification({ notBefore: now }));
    assert.ok(await store.outbox.claim(d.id, now, MINUTE));
    await store.outbox.markDead(d.id, '400 invalid recipient');
    got = await store.outbox.get(d.id);
    assert.equal(got?.status, 'dead');
    assert.equal(got?.lastError, '400 invalid recipient');
    assert.equal(await store.outbox.claim(d.id, now, MINUTE), null);
    const requeueAt = new Date(now.getTime() + 2 * MINUTE);
    assert.equal(await other.outbox.requeue(d.id, requeueAt), true);
    got = await store.outbox.get(d.id);
    assert.equal(got?.status, 'queued');
    assert.equal(got?.attempts, 0);
    assert.equal(got?.notBefore.getTime(), requeueAt.getTime());
    assert.equal((await store.outbox.claim(d.id, requeueAt, MINUTE))?.attempts, 1);
  });

  test('outbox: list pages newest first under each filter without gaps; bad queries are BAD_REQUEST', async () => {
    const { store } = stores();
    const owner = randomName('owner');
    const eventA = randomName('ev');
    const eventB = randomName('ev');
    const inserted: NotificationRecord[] = [];
    for (let i = 0; i < 13; i++) {
      const n = newNotification({ owner, event: i % 3 ? eventA : eventB, channel: i % 2 ? 'line' : 'email' });
      inserted.push((await store.outbox.insert(n)).record);
    }
    await store.outbox.markDead(inserted[0]?.id ?? '', 'x');
    await store.outbox.markDead(inserted[5]?.id ?? '', 'x');
    const current = await Promise.all(inserted.map(async (n) => (await store.outbox.get(n.id)) as NotificationRecord));
    const newest = (a: NotificationRecord, b: NotificationRecord) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
    const cases = [
      { owner, limit: 4 },
      { owner, event: eventA, limit: 3 },
      { owner, event: eventB, channel: 'email', limit: 1 },
      { owner, status: 'dead' as const, limit: 1 },
      { event: eventA, status: 'queued' as const, limit: 500 },
    ];
    for (const c of cases) {
      const ids: string[] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await store.outbox.list({ ...c, cursor });
        ids.push(...page.items.map((n) => n.id));
        if (page.nextCursor === null) break;
        assert.equal(page.items.length, c.limit);
        cursor = page.nextCursor;
      }
      const expected = current
        .filter((n) => n.owner === c.owner || c.owner === undefined)
        .filter((n) => (c.event === undefined || n.event === c.event) && ('channel' in c ? n.channel === c.channel : true))
        .filter((n) => c.status === undefined || n.status === c.status)
        .sort(newest);
      assert.deepEqual(
        ids,
        expected.map((n) => n.id),
        JSON.stringify(c),
      );
    }
    await assert.rejects(store.outbox.list({ limit: 0 }), (err) => errorCode(err) === ErrorCodes.BAD_REQUEST);
    await assert.rejects(store.outbox.list({ limit: 5, cursor: 'nope' }), (err) => errorCode(err) === ErrorCodes.BAD_REQUEST);
  });

  test('outbox: digest appends go to one open row, even raced; a claimed digest is closed', async () => {
    const { store, other } = stores();
    const digestKey = randomName('digest');
    const create = (i: number) =>
      newNotification({ key: `${digestKey}:row`, id: randomUUID(), message: { title: 'Digest', items: [{ title: `f${i}` }] }, digestKey });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? other : store).outbox.appendToDigest(digestKey, { title: `f${i}` }, create(i))),
    );
    assert.equal(results.filter((r) => r.created).length, 1);
    const ids = new Set(results.map((r) => r.record.id));
    assert.equal(ids.size, 1);
    const row = await store.outbox.get([...ids][0] ?? '');
    assert.ok(row);
    assert.equal(row.key, `${digestKey}:row`);
    assert.equal(row.digestKey, digestKey);
    assert.equal(row.message.title, 'Digest');
    const titles = (row.message.items as Array<{ title: string }>).map((x) => x.title).sort();
    assert.deepEqual(titles, Array.from({ length: 10 }, (_, i) => `f${i}`).sort());

    assert.ok(await store.outbox.claim(row.id, new Date(), MINUTE));
    const next = await other.outbox.appendToDigest(digestKey, { title: 'late' }, create(99));
    assert.equal(next.created, true, 'a claimed digest takes no more items');
    assert.notEqual(next.record.id, row.id);
    assert.notEqual(next.record.key, row.key);
    assert.equal(next.record.digestKey, digestKey);
    assert.deepEqual(next.record.message.items, [{ title: 'f99' }]);
    const appended = await store.outbox.appendToDigest(digestKey, { title: 'later' }, create(100));
    assert.deepEqual([appended.created, appended.record.id], [false, next.record.id]);
    assert.deepEqual(appended.record.message.items, [{ title: 'f99' }, { title: 'later' }]);
    assert.deepEqual((await store.outbox.get(row.id))?.message.items, row.message.items, 'closed row untouched');
    // Third generation after the second is sent.
    await store.outbox.markSent(next.record.id, null, new Date());
    const third = await store.outbox.appendToDigest(digestKey, { title: 'x' }, create(101));
    assert.equal(third.created, true);
    assert.equal(new Set([row.key, next.record.key, third.record.key]).size, 3);
  });

  test('outbox: lastFor, findDue and purge', async () => {
    const { store, other } = stores();
    const recipient = randomName('rcpt');
    const t0 = new Date();
    const { record } = await store.outbox.insert(newNotification({ event: 'quota.warning', channel: 'line', recipient }));
    assert.equal((await other.outbox.lastFor('quota.warning', 'line', recipient, new Date(t0.getTime() - MINUTE)))?.getTime(), record.createdAt.getTime());
    assert.equal(await store.outbox.lastFor('quota.warning', 'line', recipient, new Date(record.createdAt.getTime() + 1)), null);
    assert.equal(await store.outbox.lastFor('quota.warning', 'email', recipient, new Date(0)), null);
    assert.equal(await store.outbox.lastFor('file.failed', 'line', recipient, new Date(0)), null);

    // A window long past, so rows other tests left behind are not due in it.
    const base = Date.UTC(2001, 0, 1) + Math.floor(Math.random() * 1000) * 86_400_000;
    const at = (m: number) => new Date(base + m * MINUTE);
    const due1 = (await store.outbox.insert(newNotification({ notBefore: at(1) }))).record;
    const due2 = (await store.outbox.insert(newNotification({ notBefore: at(2) }))).record;
    const leased = (await store.outbox.insert(newNotification({ notBefore: at(3) }))).record;
    const failed = (await store.outbox.insert(newNotification({ notBefore: at(0) }))).record;
    const sent = (await store.outbox.insert(newNotification({ notBefore: at(0) }))).record;
    const notYet = (await store.outbox.insert(newNotification({ notBefore: at(30) }))).record;
    assert.ok(await store.outbox.claim(leased.id, at(4), 60 * MINUTE));
    assert.ok(await store.outbox.claim(failed.id, at(0), MINUTE));
    await store.outbox.markFailed(failed.id, 'timeout', at(5));
    assert.ok(await store.outbox.claim(sent.id, at(0), MINUTE));
    await store.outbox.markSent(sent.id, 'ok', at(1));

    const due = await other.outbox.findDue(at(10), 100);
    assert.deepEqual(
      due.map((n) => n.id),
      [due1.id, due2.id, failed.id],
    );
    assert.deepEqual(
      (await store.outbox.findDue(at(10), 2)).map((n) => n.id),
      [due1.id, due2.id],
    );
    assert.deepEqual(
      (await store.outbox.findDue(at(100), 100)).map((n) => n.id),
      [due1.id, due2.id, leased.id, failed.id, notYet.id],
    );

    // purge: only sent/dead rows last updated before the cutoff.
    const dead = (await store.outbox.insert(newNotification({ notBefore: at(0) }))).record;
    await store.outbox.markDead(dead.id, 'gone');
    assert.equal(await store.outbox.purge(at(2)), 1);
    assert.equal(await store.outbox.get(sent.id), null);
    assert.ok(await store.outbox.get(dead.id), 'dead row updated now is kept');
    assert.ok(await store.outbox.get(due1.id), 'queued rows are never purged');
    assert.ok((await other.outbox.purge(new Date(Date.now() + MINUTE))) >= 1);
    assert.equal(await store.outbox.get(dead.id), null);
    assert.ok(await store.outbox.get(notYet.id));
  });
}
