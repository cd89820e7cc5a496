import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * @line/bot-sdk v10 calls the global `fetch` with no way to pass a signal, so a hung LINE
 * request would never end. We run each SDK call inside an AsyncLocalStorage scope that holds
 * an AbortSignal, and a thin wrapper around the global fetch adds that signal to requests
 * made inside the scope. Outside a scope the wrapper passes calls through untouched, so other
 * fetch users in the process see no change. Aborting a fetch destroys its socket, which is
 * what makes a timed-out request really end (a Promise.race would leave it open).
 */
const scope = new AsyncLocalStorage<AbortSignal>();

let original: typeof fetch | undefined;
let wrapper: typeof fetch | undefined;

function install(): void {
  // Re-install if someone replaced the global after us; our scope would silently stop working.
  if (wrapper !== undefined && globalThis.fetch === wrapper) return;
  const base = globalThis.fetch;
  original = base;
  wrapper = (input, init) => {
    const signal = scope.getStore();
    if (signal === undefined) return base(input, init);
    const own = init?.signal;
    return base(input, { ...init, signal: own ? AbortSignal.any([own, signal]) : signal });
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
 * Run `fn` (which calls the SDK) so that every fetch it makes is aborted after `timeoutMs`
 * or when `signal` fires. The timer is cleared when `fn` settles: nothing is left behind.
 */
export async function withFetchDeadline<T>(timeoutMs: number, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  install();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new LineTimeoutError(timeoutMs)), timeoutMs);
  const onAbort = (): void => controller.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await scope.run(controller.signal, fn);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** For tests: whether our wrapper is the global fetch right now. */
export function fetchWrapperInstalled(): boolean {
  return wrapper !== undefined && globalThis.fetch === wrapper && original !== undefined;
}
