import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Slots } from '../../src/pool/slots.js';

describe('Slots', () => {
  test('at most capacity holders; waiters in arrival order; an aborted waiter leaves with its reason', async () => {
    const slots = new Slots(1);
    await slots.acquire();
    const order: string[] = [];
    const first = slots.acquire().then(() => order.push('first'));
    const gone = new AbortController();
    const aborted = slots.acquire(gone.signal);
    const second = slots.acquire().then(() => order.push('second'));
    gone.abort(new Error('no longer wanted'));
    await assert.rejects(aborted, /no longer wanted/);
    assert.equal(slots.tryAcquire(), false, 'nothing free');
    slots.release();
    await first;
    slots.release();
    await second;
    assert.deepEqual(order, ['first', 'second']);
    slots.release();
    assert.equal(slots.tryAcquire(), true);
  });

  test('a spare request is served only when no waiter wants the slot, and can be cancelled', async () => {
    const slots = new Slots(1);
    assert.equal(slots.tryAcquire(), true);
    const granted: string[] = [];
    const cancelled = slots.requestSpare(() => granted.push('cancelled'));
    slots.requestSpare(() => granted.push('spare'));
    const waiter = slots.acquire().then(() => granted.push('waiter'));
    cancelled();
    slots.release();
    await waiter;
    assert.deepEqual(granted, ['waiter'], 'the waiter came first');
    slots.release();
    assert.deepEqual(granted, ['waiter', 'spare'], 'then the spare, the cancelled one never');
    assert.equal(slots.tryAcquire(), false, 'the spare holds the slot');
    slots.release();
    assert.equal(slots.tryAcquire(), true);
  });
});
