import { createRequire } from 'node:module';

import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import type * as PinoPretty from 'pino-pretty';

export type { Logger };

/** LOG_FORMAT: `json` lines, `pretty` lines for people, or `auto` (pretty when stdout is a TTY). */
export type LogFormat = 'json' | 'pretty' | 'auto';

/** Keys whose values never reach a log line, wherever they sit in a logged object. */
const REDACT = [
  'apiToken',
  'password',
  'secret',
  'token',
  'authorization',
  '*.apiToken',
  '*.password',
  '*.secret',
  '*.token',
  '*.authorization',
  '*.secretAccessKey',
  'req.headers.authorization',
];

/**
 * pino writes a child's bindings and the logged object side by side without merging them, so
 * `log.child({ fileId }).info({ fileId }, …)` (or two children binding `component`) puts a key
 * twice in one line — which most JSON tools read differently (first wins, last wins, error).
 * Re-serialising keeps one key, with the innermost (last written) value, at its first position.
 */
export function dedupeKeys(line: string): string {
  const body = line.endsWith('\n') ? line.slice(0, -1) : line;
  try {
    return `${JSON.stringify(JSON.parse(body))}\n`;
  } catch {
    return line;
  }
}

export interface CreateLoggerOptions extends Partial<LoggerOptions> {
  /** Default `auto`. */
  readonly format?: LogFormat | undefined;
  /** Where lines go (default stdout); a pretty logger prettifies into it. */
  readonly destination?: DestinationStream | NodeJS.WritableStream | undefined;
  /** Colours in pretty mode (default: when stdout is a TTY). */
  readonly colorize?: boolean | undefined;
}

/** Whether `auto` means pretty here: stdout is a terminal. */
export function wantsPretty(format: LogFormat | undefined, isTTY = process.stdout.isTTY === true): boolean {
  return format === 'pretty' || ((format ?? 'auto') === 'auto' && isTTY);
}

/**
 * The one logger of a process. Pretty mode prints one line per event — time, level, job, file
 * id, message, then the remaining fields — for a person at a terminal; JSON mode one object per
 * line with each key once, for a log pipeline.
 */
export function createLogger(level: string, options: CreateLoggerOptions = {}): Logger {
  const { format, destination, colorize, ...rest } = options;
  const base: LoggerOptions = { level, redact: { paths: REDACT, censor: '[redacted]' }, ...rest };
  if (wantsPretty(format)) {
    // Only a pretty logger loads pino-pretty (a service logging JSON never needs it).
    const { build: pretty } = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
    const stream = pretty({
      colorize: colorize ?? process.stdout.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,job,fileId',
      messageFormat: '{if job}{job} {end}{if fileId}{fileId} {end}{msg}',
      singleLine: true,
      sync: true,
      ...(destination ? { destination: destination as NodeJS.WritableStream } : {}),
    });
    return pino(base, stream);
  }
  const json: LoggerOptions = { ...base, hooks: { ...base.hooks, streamWrite: dedupeKeys } };
  return destination ? pino(json, destination) : pino(json);
}
