import { createRequire } from 'node:module';

import type * as Progress from 'cli-progress';
import type TableType from 'cli-table3';

// Loaded when a command prints, not by `nightshift start` (which imports every command).
const load = createRequire(import.meta.url);

/** Options every verb accepts. */
export interface OutputOptions {
  readonly json?: boolean;
}

/** stdout: the answer (a table or JSON). stderr: progress and messages. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

type Cell = string | number | boolean | null | undefined | Date;
const text = (v: Cell): string => (v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : String(v));

/** A human table of rows under the given headings. */
export function printTable(head: readonly string[], rows: ReadonlyArray<readonly Cell[]>): void {
  const Table = load('cli-table3') as typeof TableType;
  const table = new Table({ head: [...head], style: { head: [], border: [] } });
  for (const r of rows) table.push(r.map(text));
  process.stdout.write(`${table.toString()}\n`);
}

/** "3 s ago", "2 min ago": how long before now. */
export function ago(at: Date | null, now = new Date()): string {
  if (!at) return '';
  const s = Math.max(0, Math.round((now.getTime() - at.getTime()) / 1000));
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

/**
 * A progress bar on stderr (also when stderr is not a terminal, so logs of scripted runs show
 * it); none with --json. Returns the update function and a stop.
 */
export function progressBar(options: OutputOptions, label: string): { readonly update: (done: number, total: number) => void; readonly stop: () => void } {
  if (options.json) return { update: () => undefined, stop: () => undefined };
  const { SingleBar } = load('cli-progress') as typeof Progress;
  const bar = new SingleBar({
    format: `${label} [{bar}] {value}/{total} {percentage}%`,
    stream: process.stderr,
    noTTYOutput: true,
    notTTYSchedule: 500,
    hideCursor: true,
  });
  let started = false;
  return {
    update: (done, total) => {
      if (!started) {
        bar.start(total, done);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(done);
      }
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
