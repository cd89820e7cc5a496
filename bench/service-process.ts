/**
 * The service as an operator runs it (`nightshift start`) in a process of its own, so what a
 * bench measures of it (event loop, CPU, RSS) is the service's alone: the bench's uploads and
 * polling run in the bench's process, as clients would.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CLOCK_TICK_S = 0.01;

export interface ServiceProcess {
  readonly url: string;
  readonly pid: number;
  /** Resident memory now, bytes. */
  rss(): number;
  /** CPU-seconds used so far by every thread of the process. */
  cpuS(): number;
  /** CPU-seconds used so far by the main thread (the event loop). */
  mainThreadCpuS(): number;
  /** Share of one core the process used over the next `ms`. */
  cpuShare(ms: number): Promise<number>;
  /** One sample of a metric from /metrics (e.g. nodejs_eventloop_lag_p99_seconds); NaN if absent. */
  metric(name: string): Promise<number>;
  stop(): Promise<void>;
}

function ticks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_S;
}

/** Resident memory of a process now, bytes (VmRSS). */
export function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
}

/** `cli`: another checkout's built dist/src/cli.js (a baseline build), else this tree's. */
export async function startServiceProcess(env: Record<string, string>, cliPath = cli): Promise<ServiceProcess> {
  const port = 40_000 + Math.floor(Math.random() * 5_000);
  // BENCH_SERVICE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof": to profile the service.
  const nodeArgs = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, cliPath, 'start'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode} before it was ready`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (performance.now() - started > 60_000) throw new Error('the service did not become ready in 60 s');
    await sleep(100);
  }
  const pid = child.pid!;
  const self: ServiceProcess = {
    url,
    pid,
    rss: () => rssBytes(pid),
    cpuS: () => ticks(readFileSync(`/proc/${pid}/stat`, 'utf8')),
    mainThreadCpuS: () => ticks(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8')),
    async cpuShare(ms) {
      const a = self.cpuS();
      const t = performance.now();
      await sleep(ms);
      return (self.cpuS() - a) / ((performance.now() - t) / 1000);
    },
    async metric(name) {
      const text = await (await fetch(`${url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
  return self;
}
