import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

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

export function createLogger(level: string, options: Partial<LoggerOptions> = {}): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, ...options });
}
