import { ErrorCodes, NightshiftError, toError } from './errors.js';
import type { Logger } from './logger.js';

/**
 * Faults of a dependency, as opposed to bugs: the store (database) is unreachable, or a disk is
 * full. Both are answered with a status that tells a client to come back (503 + Retry-After,
 * 507) instead of 500 "internal error", and logged once when they start and once when they end.
 */
export type Fault =
  { readonly kind: 'store-down'; readonly reason: string } | { readonly kind: 'disk-full'; readonly reason: string; readonly path: string | undefined };

/** Driver error codes of a lost or refused connection (Node's, PostgreSQL SQLSTATE class 08 and 57P0x). */
const DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '57P01',
  '57P02',
  '57P03',
]);
const DOWN_MESSAGES =
  /Connection terminated|connection timeout|Client has encountered a connection error|terminating connection|Connection closed|server closed the connection/i;
const DOWN_NAMES = new Set(['MongoNetworkError', 'MongoServerSelectionError', 'MongoNotConnectedError', 'MongoTopologyClosedError']);
/** ENOSPC/EDQUOT (fs), SQLITE_FULL (SQLite), 53100 disk_full (PostgreSQL). */
const FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL', '53100']);
const FULL_MESSAGES = /No space left on device|database or disk is full|could not extend file|disk quota exceeded/i;

/** The error and its causes, outermost first (bounded: cause chains can loop). */
function* chain(err: unknown): Generator<{ code?: unknown; name?: unknown; message?: unknown; path?: unknown }> {
  let current: unknown = err;
  for (let i = 0; i < 8 && typeof current === 'object' && current !== null; i++) {
    yield current;
    const next = current as { cause?: unknown; errors?: unknown };
    // AggregateError (pg's connection to several addresses) carries its reasons in `errors`.
    current = next.cause ?? (Array.isArray(next.errors) ? (next.errors as unknown[])[0] : undefined);
  }
}

/** What kind of dependency fault an error is, if it is one. */
export function classifyFault(err: unknown): Fault | undefined {
  if (err instanceof NightshiftError && err.code === ErrorCodes.STORAGE_FULL)
    return { kind: 'disk-full', reason: err.message, path: (err as { path?: string }).path };
  for (const e of chain(err)) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    const message = typeof e.message === 'string' ? e.message : '';
    if ((code && FULL_CODES.has(code)) || FULL_MESSAGES.test(message)) {
      return { kind: 'disk-full', reason: message || String(code), path: typeof e.path === 'string' ? e.path : undefined };
    }
  }
  for (const e of chain(err)) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    const message = typeof e.message === 'string' ? e.message : '';
    if ((code && DOWN_CODES.has(code)) || DOWN_MESSAGES.test(message) || (typeof e.name === 'string' && DOWN_NAMES.has(e.name))) {
      return { kind: 'store-down', reason: code && !message.includes(code) ? `${message} (${code})` : message || String(code) };
    }
  }
  return undefined;
}

/** Seconds a client is told to wait (Retry-After) while the store is down. */
export const STORE_RETRY_AFTER_SECONDS = 5;

/** The answer an API client gets for a fault: 503 STORE_UNAVAILABLE or 507 STORAGE_FULL. */
export function faultError(fault: Fault, cause: unknown): NightshiftError {
  if (fault.kind === 'disk-full') {
    return new NightshiftError(
      ErrorCodes.STORAGE_FULL,
      `no space left to store the upload${fault.path ? ` (${fault.path})` : ''}; try again once space is freed`,
      { status: 507, cause },
    );
  }
  return new NightshiftError(ErrorCodes.STORE_UNAVAILABLE, `the store is unavailable; try again in ${STORE_RETRY_AFTER_SECONDS} s`, { status: 503, cause });
}

export interface FaultMonitorOptions {
  readonly log: Logger;
  /** A trivial query against the store (store.ping): polled while it is down, to say when it is back. */
  readonly probe: () => Promise<void>;
  /** How often the probe runs while the store is down, ms (default 1000). */
  readonly probeEveryMs?: number;
  /** The disk-full state is kept this long after the last ENOSPC, ms (default 10 000); /readyz reports it. */
  readonly fullHoldMs?: number;
}

export interface FaultMonitor {
  /**
   * Tell the monitor about an error from anywhere (a request, Agenda, a wake-up channel, an idle
   * pool client). Returns the fault it is, or undefined for any other error (the caller logs those).
   */
  report(err: unknown, source: string): Fault | undefined;
  /** Whether the store is known to be down now. */
  readonly storeDown: boolean;
  /** The last disk-full fault, while it is recent (fullHoldMs). */
  diskFull(): { readonly path: string | undefined; readonly reason: string } | undefined;
  /** Stop probing. */
  stop(): void;
}

/**
 * One warning when the store goes down, one info line when a probe finds it back (with how many
 * errors were kept quiet meanwhile), and nothing in between: during a 20 s PostgreSQL outage
 * the wake-up channel alone used to log hundreds of lines.
 */
export function createFaultMonitor(options: FaultMonitorOptions): FaultMonitor {
  const { log } = options;
  let down: { since: number; quiet: number; sources: Set<string> } | undefined;
  let full: { path: string | undefined; reason: string; at: number; quiet: number } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const probe = () => {
    timer = undefined;
    if (stopped || !down) return;
    options.probe().then(
      () => {
        if (!down) return;
        log.info({ downMs: Date.now() - down.since, quietErrors: down.quiet, sources: [...down.sources] }, 'store is back');
        down = undefined;
      },
      () => {
        if (!stopped && down) timer = setTimeout(probe, options.probeEveryMs ?? 1_000).unref();
      },
    );
  };

  return {
    report(err, source) {
      const fault = classifyFault(err);
      if (!fault) return undefined;
      if (fault.kind === 'store-down') {
        if (down) {
          down.quiet++;
          down.sources.add(source);
        } else {
          down = { since: Date.now(), quiet: 0, sources: new Set([source]) };
          log.warn({ source, reason: fault.reason }, `store unavailable: ${fault.reason}; answering 503 until it is back`);
          if (!stopped) timer = setTimeout(probe, options.probeEveryMs ?? 1_000).unref();
        }
      } else if (full && Date.now() - full.at < (options.fullHoldMs ?? 10_000)) {
        full.quiet++;
        full.at = Date.now();
      } else {
        full = { path: fault.path, reason: fault.reason, at: Date.now(), quiet: 0 };
        log.warn({ source, path: fault.path, reason: fault.reason }, `storage full${fault.path ? ` at ${fault.path}` : ''}: answering 507`);
      }
      return fault;
    },
    get storeDown() {
      return down !== undefined;
    },
    diskFull() {
      if (!full || Date.now() - full.at >= (options.fullHoldMs ?? 10_000)) return undefined;
      return { path: full.path, reason: full.reason };
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

/**
 * A dependency that start-up could not reach, named by its config key: the CLI prints the
 * message (`DATABASE_URL: cannot connect to nope:1 (ENOTFOUND)`) and exits 2, without a stack.
 */
export class ConnectError extends NightshiftError {
  readonly key: string;
  constructor(key: string, message: string, cause: unknown) {
    super(ErrorCodes.CONNECT_FAILED, `${key}: ${message}`, { status: 503, cause });
    this.name = 'ConnectError';
    this.key = key;
  }
}

/** host:port of a URL, without user or password ("nope:1"). */
export function urlTarget(url: string): string {
  try {
    const u = new URL(url);
    return u.host || url.replace(/\/\/[^@/]*@/, '//');
  } catch {
    return '(unparsable URL)';
  }
}

/** The driver's short reason: its code (ENOTFOUND, ECONNREFUSED, 28P01) or else its message. */
export function shortReason(err: unknown): string {
  // The driver's own code, under any wrappers of ours (NightshiftError codes are ours, not its).
  const codes = [...chain(err)].filter((e) => !(e instanceof NightshiftError) && typeof e.code === 'string' && e.code !== '').map((e) => e.code as string);
  if (codes.length > 0) return codes[codes.length - 1]!;
  const message = toError(err).message;
  return message.length > 200 ? `${message.slice(0, 200)}…` : message || toError(err).name;
}

/** Whether an error looks like a failed connection, rather than a bug to show with its stack. */
export function isConnectionFailure(err: unknown): boolean {
  if (classifyFault(err)?.kind === 'store-down') return true;
  for (const e of chain(err)) {
    const code = typeof e.code === 'string' ? e.code : '';
    // 28xxx: authentication; 3D000: no such database; ECONN…/ENOTFOUND are covered above.
    if (/^(28|3D)/.test(code)) return true;
    if (typeof e.name === 'string' && /^Mongo/.test(e.name)) return true;
  }
  return false;
}
