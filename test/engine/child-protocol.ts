import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import type { Config } from '../../src/config.js';

export interface ChildArgs {
  readonly role: 'work' | 'save' | 'enqueue';
  readonly database: Config['database'];
  readonly redisUrl?: string | undefined;
  readonly jobName: string;
  readonly count?: number;
  readonly concurrency?: number;
  readonly lockLimit?: number;
  readonly processEveryMs?: number;
  readonly jobMs?: number;
}

export type ChildMessage = { ready: true } | { started: true } | { done: true } | { error: string } | { ran: string; at: number; pid: number };

/** A forked child.js with helpers to wait for its messages; `kill()` is safe to call twice. */
export interface Child {
  readonly process: ChildProcess;
  readonly messages: ChildMessage[];
  waitFor(predicate: (m: ChildMessage) => boolean, timeoutMs?: number): Promise<ChildMessage>;
  exited: Promise<number | null>;
  kill(): void;
}

export function forkChild(args: ChildArgs): Child {
  const proc = fork(fileURLToPath(new URL('./child.js', import.meta.url)), [JSON.stringify(args)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages: ChildMessage[] = [];
  const waiters = new Set<() => void>();
  proc.on('message', (m) => {
    messages.push(m as ChildMessage);
    for (const w of waiters) w();
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    process: proc,
    messages,
    exited,
    waitFor(predicate, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const err = messages.find((m) => 'error' in m);
          if (err) return done(() => reject(new Error(`child failed: ${err.error}`)));
          const hit = messages.find(predicate);
          if (hit) return done(() => resolve(hit));
        };
        const timer = setTimeout(() => done(() => reject(new Error('timed out waiting for the child'))), timeoutMs);
        const done = (fn: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          fn();
        };
        waiters.add(check);
        void exited.then(() =>
          setImmediate(() => {
            if (!waiters.has(check)) return;
            check();
            if (waiters.has(check)) done(() => reject(new Error('child exited')));
          }),
        );
        check();
      });
    },
    kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}
