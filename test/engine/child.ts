// A second (or third) process for the engine conformance suite: it opens its own backend on
// the database the parent names, waits for 'go', does one thing and reports over IPC.
//   work    — runs jobs of `jobName`, reporting each id; stops on 'stop'
//   save    — saves `count` unique jobs and every() jobs at once, then exits
//   enqueue — saves one due job (never starts Agenda, like an API process), then exits
import { Agenda } from 'agenda';

import { createEngineBackend } from '../../src/engine/backends.js';
import { createLogger } from '../../src/logger.js';
import type { ChildArgs, ChildMessage } from './child-protocol.js';

const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
const send = (m: ChildMessage) => process.send?.(m);

async function main(): Promise<void> {
  const log = createLogger('silent');
  const { backend, notificationChannel } = await createEngineBackend(args.database, { log, redisUrl: args.redisUrl });
  const agenda = new Agenda({
    backend,
    ...(notificationChannel ? { notificationChannel } : {}),
    name: `child-${process.pid}`,
    processEvery: args.processEveryMs ?? 5000,
    defaultLockLimit: args.lockLimit ?? 10,
  });
  await agenda.ready;
  const go = new Promise<void>((resolve) => process.on('message', (m) => m === 'go' && resolve()));
  const stop = new Promise<void>((resolve) => process.on('message', (m) => m === 'stop' && resolve()));

  if (args.role === 'work') {
    agenda.define(
      args.jobName,
      async (job) => {
        send({ ran: String(job.attrs._id), at: Date.now(), pid: process.pid });
        if (args.jobMs) await new Promise((r) => setTimeout(r, args.jobMs));
      },
      { concurrency: args.concurrency ?? 5 },
    );
    send({ ready: true });
    await go;
    await agenda.start();
    send({ started: true });
    await stop;
    await agenda.stop();
  } else if (args.role === 'save') {
    send({ ready: true });
    await go;
    const count = args.count ?? 20;
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        await agenda.create(args.jobName, { key: 'same', from: process.pid, i }).unique({ 'data.key': 'same' }).save();
        await agenda.every('1 hour', `${args.jobName}-every`, { from: process.pid });
      }),
    );
    await agenda.stop();
  } else {
    send({ ready: true });
    await go;
    await agenda.now(args.jobName, { t: Date.now() });
    await backend.disconnect();
  }
  send({ done: true });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    send({ error: String((err as Error)?.stack ?? err) });
    process.exit(1);
  },
);
