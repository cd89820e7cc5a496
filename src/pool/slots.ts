import { abortReason } from '../abort.js';

/**
 * A counting semaphore: at most `capacity` holders at once, waiters served in arrival order.
 * A waiter whose signal aborts leaves the queue and rejects with the signal's reason. Spare
 * requests (requestSpare) are served only when no waiter wants the slot.
 */
export class Slots {
  private used = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly spare: Array<() => void> = [];

  constructor(readonly capacity: number) {}

  /** Take a slot, waiting for one if none is free. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.used < this.capacity && this.waiting.length === 0) {
      this.used++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const go = () => {
        signal?.removeEventListener('abort', abort);
        this.used++;
        resolve();
      };
      const abort = () => {
        const i = this.waiting.indexOf(go);
        if (i !== -1) this.waiting.splice(i, 1);
        reject(abortReason(signal!));
      };
      this.waiting.push(go);
      signal?.addEventListener('abort', abort, { once: true });
    });
  }

  /** Take a slot only if one is free now and nobody is waiting for one. */
  tryAcquire(): boolean {
    if (this.used >= this.capacity || this.waiting.length > 0) return false;
    this.used++;
    return true;
  }

  /**
   * Ask for a slot nobody else wants: `grant` runs (the slot taken) now if one is free, or when
   * one is released with no waiter for it. Returns a cancel for a request not yet granted.
   */
  requestSpare(grant: () => void): () => void {
    if (this.tryAcquire()) {
      grant();
      return () => {};
    }
    this.spare.push(grant);
    return () => {
      const i = this.spare.indexOf(grant);
      if (i !== -1) this.spare.splice(i, 1);
    };
  }

  release(): void {
    this.used--;
    const waiter = this.waiting.shift();
    // A waiter counts itself in (go); a spare grant is counted here.
    if (waiter) return waiter();
    const grant = this.spare.shift();
    if (!grant) return;
    this.used++;
    grant();
  }
}
