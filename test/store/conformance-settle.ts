import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';

import { digestKeyOf, notificationId } from '../../src/store/outbox-keys.js';
import type { NewNotification, OutboxEntry } from '../../src/store/outbox-types.js';
import type { FileRecord, Store } from '../../src/store/types.js';
import { randomName } from '../helpers/env.js';

const MINUTE = 60_000;

function row(over: Partial<NewNotification> = {}): NewNotification {
  const key = randomName('key');
  return {
    id: notificationId(key),
    key,
    event: 'file.completed',
    channel: 'email',
    recipient: 'a@example.com',
    owner: 'alice',
    message: { title: 'Done', text: 'photo.jpg is ready' },
    notBefore: new Date(),
    ...over,
  };
}

/** A file in `processing` whose steps are all final (ready to finalize). */
export type ReadyFile = (failedStep?: 'analyze') => Promise<FileRecord>;

/**
 * The transactional outbox (a file's final status and its outbox rows, one commit) and the
 * outbox's retry support (first attempt, waking a channel). `ready` makes a file to settle.
 */
export function settleConformance(stores: () => { store: Store; other: Store }, ready: ReadyFile): void {
  test('settle: finalizeFile commits the rows its planner made from the final record, once', async () => {
    const { store, other } = stores();
    const f = await ready('analyze');
    const seen: FileRecord[] = [];
    const n = row({ event: 'file.failed' });
    const planner = async (file: FileRecord): Promise<OutboxEntry[]> => (seen.push(file), [{ kind: 'row', row: n }]);
    const settled = await store.finalizeFile(f.id, planner);
    assert.ok(settled);
    assert.equal(seen[0]?.status, 'failed', 'the planner sees the final status');
    assert.equal(seen[0]?.error, 'analyze: broken');
    assert.ok(seen[0]?.completedAt instanceof Date);
    assert.deepEqual(
      settled.notifications.map((r) => [r.id, r.status]),
      [[n.id, 'queued']],
    );
    assert.equal((await other.outbox.get(n.id))?.key, n.key);
    assert.equal(await other.finalizeFile(f.id, planner), null, 'a second settle writes nothing');
    const { notifications, ...record } = settled;
    assert.equal(notifications.length, 1);
    assert.deepEqual(await other.getFile(f.id), record);
    // Nothing left pending for the sweeper.
    assert.deepEqual(await other.materializeOutbox(100), []);
  });

  test('settle: failFile commits its rows (a digest append among them); a final file writes none', async () => {
    const { store } = stores();
    const u = await store.createFile({ id: randomUUID(), owner: 'ann', filename: 'a.png', contentType: 'image/png', size: 1, blobKey: 'originals/a' });
    const digestKey = digestKeyOf('file.stuck', 'console', 'admin');
    const plain = row({ event: 'file.failed', channel: 'console', recipient: 'owner:ann', owner: 'ann' });
    const first = row({
      event: 'file.stuck',
      channel: 'console',
      recipient: 'admin',
      owner: 'ann',
      digestKey,
      message: { title: 'stuck', items: [{ title: 'a' }] },
    });
    const failed = await store.failFile(u.id, 'stuck in analyze for 25 min and out of attempts (3 of 3)', async (file) => [
      { kind: 'row', row: { ...plain, message: { title: file.error ?? '' } } },
      { kind: 'digest', digestKey, item: { title: 'a' }, create: first },
    ]);
    assert.ok(failed);
    assert.equal(failed.status, 'failed');
    assert.deepEqual(failed.notifications.map((r) => r.id).sort(), [plain.id, first.id].sort());
    assert.deepEqual((await store.outbox.get(plain.id))?.message, { title: 'stuck in analyze for 25 min and out of attempts (3 of 3)' });
    let called = false;
    assert.equal(await store.failFile(u.id, 'again', async () => ((called = true), [{ kind: 'row', row: row() }])), null);
    assert.equal(called, false, 'a final file is not planned for');
  });

  test('settle: on SQL a failing outbox write rolls the status back (one transaction)', async (t) => {
    const { store } = stores();
    if (store.kind === 'mongodb') {
      t.skip('MongoDB: the status and the pending entries are one document update; materializing is retried by the sweeper');
      return;
    }
    const taken = row();
    await store.outbox.insert(taken);
    const f = await ready();
    // Same id, another key: the primary key refuses it inside the transaction.
    await assert.rejects(store.finalizeFile(f.id, async () => [{ kind: 'row', row: { ...row(), id: taken.id } }]));
    assert.equal((await store.getFile(f.id))?.status, 'processing', 'the status did not commit without its rows');
    assert.ok(await store.finalizeFile(f.id));
  });

  test('outbox: the first attempt is kept across claims; requeue clears it', async () => {
    const { store } = stores();
    const { record } = await store.outbox.insert(row());
    const t0 = new Date(Date.now() + MINUTE);
    const first = await store.outbox.claim(record.id, t0, 1_000);
    assert.equal(first?.firstAttemptAt?.getTime(), t0.getTime());
    await store.outbox.markFailed(record.id, 'ECONNREFUSED', t0);
    const t1 = new Date(t0.getTime() + 5 * MINUTE);
    const second = await store.outbox.claim(record.id, t1, 1_000);
    assert.equal(second?.attempts, 2);
    assert.equal(second?.firstAttemptAt?.getTime(), t0.getTime());
    await store.outbox.markDead(record.id, 'gave up');
    assert.equal(await store.outbox.requeue(record.id, t1), true);
    assert.equal((await store.outbox.get(record.id))?.firstAttemptAt, null);
  });

  test('outbox: wake makes one channel’s waiting failed rows due now, oldest first; others stay', async () => {
    const { store, other } = stores();
    const channel = randomName('ch');
    const now = new Date(Date.now() + 2 * MINUTE);
    const later = new Date(now.getTime() + 30 * MINUTE);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { record } = await store.outbox.insert(row({ channel }));
      ids.push(record.id);
      await new Promise((r) => setTimeout(r, 3));
    }
    for (const id of ids) {
      await store.outbox.claim(id, new Date(), 1_000);
      await store.outbox.markFailed(id, 'ECONNREFUSED', later);
    }
    // A row another worker holds, a queued one (quiet hours) and one on another channel stay.
    await store.outbox.claim(ids[3]!, later, 60 * MINUTE);
    const quiet = (await store.outbox.insert(row({ channel, notBefore: later }))).record;
    const elsewhere = (await store.outbox.insert(row({ channel: `${channel}-x` }))).record;
    await store.outbox.claim(elsewhere.id, new Date(), 1_000);
    await store.outbox.markFailed(elsewhere.id, 'x', later);

    const woken = await other.outbox.wake(channel, now, 100);
    assert.deepEqual(
      woken.map((r) => r.id),
      ids.slice(0, 3),
    );
    for (const r of woken) assert.equal(r.notBefore.getTime(), now.getTime());
    assert.equal((await store.outbox.get(quiet.id))?.notBefore.getTime(), later.getTime());
    assert.equal((await store.outbox.get(elsewhere.id))?.notBefore.getTime(), later.getTime());
    assert.deepEqual(await store.outbox.wake(channel, now, 100), [], 'nothing is woken twice');
    assert.equal((await store.outbox.claim(ids[0]!, now, 1_000))?.attempts, 2, 'a woken row can be claimed now');
  });
}
