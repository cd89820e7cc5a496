import { AsyncLocalStorage } from 'node:async_hooks';

import type { Dispatcher } from 'undici';

/**
 * @line/bot-sdk v10 calls the global `fetch` with no way to pass a signal or a connection
 * pool, so a hung LINE request would never end and its sockets would sit in the process-wide
 * pool that no close() can reach. We run each SDK call inside an AsyncLocalStorage scope that
 * holds an AbortSignal and the notifier's own undici dispatcher; a thin wrapper around the
 * global fetch adds both to requests made inside the scope. Outside a scope the wrapper passes
 * calls through untouched, so other fetch users in the process see no change. Aborting a fetch
 * destroys its socket, which is what makes a timed-out request really end (a Promise.race
 * would leave it open); destroying the dispatcher ends the idle ones.
 */
interface Scope {
  readonly signal: AbortSignal;
  readonly dispatcher: Dispatcher | undefined;
}
const scope = new AsyncLocalStorage<Scope>();

let original: typeof fetch | undefined;
let wrapper: typeof fetch | undefined;

function install(): void {
  // Re-install if someone replaced the global after us; our scope would silently stop working.
  if (wrapper !== undefined && globalThis.fetch === wrapper) return;
  const base = globalThis.fetch;
  original = base;
  wrapper = (input, init) => {
    const current = scope.getStore();
    if (current === undefined) return base(input, init);
    const own = init?.signal;
    const signal = own ? AbortSignal.any([own, current.signal]) : current.signal;
    // `dispatcher` is Node's (undici's) documented fetch extension; the DOM RequestInit type lacks it.
    const extended: RequestInit & { dispatcher?: Dispatcher } = { ...init, signal };
    if (current.dispatcher !== undefined) extended.dispatcher = current.dispatcher;
    return base(input, extended);
  };
  globalThis.fetch = wrapper;
}

/** Thrown into the SDK call when our timer fires, so the caller can tell a timeout from a cancel. */
export class LineTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`LINE API did not answer within ${timeoutMs} ms`);
    this.name = 'LineTimeoutError';
  }
}

/**
 * Run `fn` (which calls the SDK) so that every fetch it makes goes through `dispatcher` (when
 * given) and is aborted after `timeoutMs` or when `signal` fires. The timer is cleared when
 * `fn` settles: nothing is left behind.
 */
export async function withFetchDeadline<T>(
  options: { readonly timeoutMs: number; readonly signal?: AbortSignal | undefined; readonly dispatcher?: Dispatcher | undefined },
  fn: () => Promise<T>,
): Promise<T> {
  const { timeoutMs, signal, dispatcher } = options;
  install();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new LineTimeoutError(timeoutMs)), timeoutMs);
  const onAbort = (): void => controller.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await scope.run({ signal: controller.signal, dispatcher }, fn);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** For tests: whether our wrapper is the global fetch right now. */
export function fetchWrapperInstalled(): boolean {
  return wrapper !== undefined && globalThis.fetch === wrapper && original !== undefined;
}
