import { ErrorCodes, NightshiftError } from './errors.js';

/** The error aborted work rejects with: the signal's own reason when it is an Error. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new NightshiftError(ErrorCodes.ABORTED, typeof reason === 'string' ? reason : 'the work was aborted');
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

/**
 * Settle with `work` or reject as soon as `signal` aborts, whichever comes first. Native work
 * (libvips, WASM) cannot be interrupted, so the caller gets control back promptly while the
 * abandoned promise finishes in the background; `onAbort` lets it free what can be freed.
 */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined, onAbort?: () => void): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    onAbort?.();
    work.catch(() => {});
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort?.();
      work.catch(() => {});
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', abort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', abort);
        // The work's own rejection passes through unchanged; callers coerce at their boundary.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        reject(err);
      },
    );
  });
}
