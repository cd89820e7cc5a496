import { Writable } from 'node:stream';

import type { Config } from '../../src/config.js';
import { createLogger, type LogFormat, type Logger } from '../../src/logger.js';

/** A logger whose lines are kept (raw text) for a test to read. */
export function captureLogger(level = 'info', format: LogFormat = 'json'): { log: Logger; raw: string[]; lines(): Array<Record<string, unknown>> } {
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') raw.push(l);
      done();
    },
  });
  const log = createLogger(level, { format, destination: sink, colorize: false });
  return { log, raw, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;

/** Just the config keys a test sets, on a random loopback port. */
export function testEnv(env: Record<string, string>): Record<string, string> {
  return { PORT: '0', HOST: '127.0.0.1', POLL_INTERVAL_MS: '300', LOG_LEVEL: 'info', ...env };
}

export type { Config };
