import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';

import { pino } from 'pino';

import type { Logger } from '../../src/logger.js';
import type { Message, Notifier, SendResult } from '../../src/notify/notifier.js';

/** What the real receiving end (SMTP server, HTTP receiver, log) says it got. */
export interface ReceivedNotification {
  readonly id: string;
  readonly title: string;
  readonly recipient: string;
}

/** A notifier wired to its real receiving end, plus the knobs the suite turns on that end. */
export interface NotifierUnderTest {
  readonly notifier: Notifier;
  /** A recipient that works. */
  readonly recipient: string;
  /** Everything the receiving end accepted so far. */
  received(): ReceivedNotification[] | Promise<ReceivedNotification[]>;
  /** The send deadline the notifier was made with (ms): a hang must end within it. */
  readonly timeoutMs: number;
  /** Strings that must never appear in a result or a log line (passwords, secrets, URL tokens). */
  readonly secrets: readonly string[];
  /** Arrange a problem retrying cannot fix; returns the recipient to send to. */
  permanentProblem?(): string | Promise<string>;
  /** Arrange a problem that goes away (4xx SMTP, 503…) for the next send; returns the recipient. */
  temporaryProblem?(): string | Promise<string>;
  /** Make the receiving end stop answering; returns the recipient. */
  hang?(): string | Promise<string>;
  /** Undo any arrangement, so the next send works again. */
  reset?(): void;
  /** Connections the receiving end still holds (must fall to 0 once the notifier is closed). */
  openConnections?(): number;
  /** Stop the receiving end. The suite closes the notifier itself. */
  cleanup(): Promise<void>;
}

export interface ConformanceContext {
  /** The logger to give the notifier; every line is captured for the secret check. */
  readonly log: Logger;
  /** The captured log lines so far (JSON strings). */
  logLines(): string[];
}

/** A reason string per failure mode the channel does not have (the test is skipped with it). */
export interface ConformanceSkips {
  readonly permanent?: string;
  readonly temporary?: string;
  readonly hang?: string;
  readonly connections?: string;
}

export function testMessage(overrides: Partial<Message> = {}): Message {
  const id = randomUUID();
  return {
    id,
    event: 'test',
    title: `Conformance ${id.slice(0, 8)}`,
    text: 'All 3 files were processed.\n\nNothing failed.',
    facts: [
      { label: 'Completed', value: '3' },
      { label: 'Failed', value: '0' },
    ],
    items: [{ title: 'cat.jpg', status: 'completed' }],
    url: 'https://nightshift.example/files/1',
    data: { completed: 3 },
    ...overrides,
  };
}

/** A pino logger writing every line (at trace level) into an array. */
export function capturingLogger(): ConformanceContext {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== ''),
      );
      cb();
    },
  });
  return { log: pino({ level: 'trace' }, stream), logLines: () => lines.slice() };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `read` until `done` holds or `timeoutMs` passes; returns the last value read. */
export async function eventually<T>(read: () => T | Promise<T>, done: (v: T) => boolean, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v) || Date.now() > deadline) return v;
    await sleep(25);
  }
}

/**
 * The one suite every notifier passes, against its real receiving end: delivery exactly once,
 * permanent vs retryable answers, a hang bounded by the timeout, close() releasing everything,
 * and no secret in any result or log line.
 */
export function runNotifierConformance(name: string, make: (ctx: ConformanceContext) => Promise<NotifierUnderTest>, skips: ConformanceSkips = {}): void {
  describe(`notifier conformance: ${name}`, () => {
    const ctx = capturingLogger();
    const results: SendResult[] = [];
    let nut: NotifierUnderTest;
    let closed = false;

    async function send(message: Message, recipient: string): Promise<SendResult> {
      const result = await nut.notifier.send(message, recipient);
      results.push(result);
      return result;
    }

    async function assertDeliveredOnce(message: Message, recipient: string): Promise<void> {
      const result = await send(message, recipient);
      assert.equal(result.status, 'delivered', JSON.stringify(result));
      const got = await eventually(
        async () => (await nut.received()).filter((r) => r.id === message.id),
        (r) => r.length > 0,
      );
      // A duplicate would arrive right behind the first copy: give it the chance to.
      await sleep(100);
      const all = (await nut.received()).filter((r) => r.id === message.id);
      assert.equal(all.length, 1, `message ${message.id} arrived ${all.length} times`);
      assert.deepEqual(got[0], { id: message.id, title: message.title, recipient });
    }

    before(async () => {
      nut = await make(ctx);
    });
    after(async () => {
      if (!closed) await nut.notifier.close();
      await nut.cleanup();
    });

    test('a message to a working recipient is delivered and arrives exactly once', async () => {
      await assertDeliveredOnce(testMessage(), nut.recipient);
    });

    test('sending the same message twice is recognisable: both copies carry its id', async () => {
      const message = testMessage();
      assert.equal((await send(message, nut.recipient)).status, 'delivered');
      assert.equal((await send(message, nut.recipient)).status, 'delivered');
      const copies = await eventually(
        async () => (await nut.received()).filter((r) => r.id === message.id),
        (r) => r.length >= 2,
      );
      assert.equal(copies.length, 2);
    });

    test('a permanent problem answers permanent with the reason', { skip: skips.permanent ?? false }, async () => {
      assert.ok(nut.permanentProblem, 'permanentProblem() is missing: implement it or skip with a reason');
      const recipient = await nut.permanentProblem();
      const result = await send(testMessage(), recipient);
      nut.reset?.();
      assert.equal(result.status, 'permanent', JSON.stringify(result));
      assert.ok(result.status === 'permanent' && result.error.length > 0);
    });

    test('a temporary problem answers retryable, and the next send goes through', { skip: skips.temporary ?? false }, async () => {
      assert.ok(nut.temporaryProblem, 'temporaryProblem() is missing: implement it or skip with a reason');
      const recipient = await nut.temporaryProblem();
      const result = await send(testMessage(), recipient);
      nut.reset?.();
      assert.equal(result.status, 'retryable', JSON.stringify(result));
      await assertDeliveredOnce(testMessage(), nut.recipient);
    });

    test('a receiving end that hangs answers retryable within the timeout', { skip: skips.hang ?? false }, async () => {
      assert.ok(nut.hang, 'hang() is missing: implement it or skip with a reason');
      const recipient = await nut.hang();
      const started = Date.now();
      const result = await send(testMessage(), recipient);
      const elapsed = Date.now() - started;
      nut.reset?.();
      assert.equal(result.status, 'retryable', JSON.stringify(result));
      assert.ok(elapsed < nut.timeoutMs + 1500, `hang took ${elapsed} ms with a ${nut.timeoutMs} ms timeout`);
      await assertDeliveredOnce(testMessage(), nut.recipient);
    });

    test('a caller abort ends a hanging send at once, as retryable', { skip: skips.hang ?? false }, async () => {
      assert.ok(nut.hang);
      const recipient = await nut.hang();
      const controller = new AbortController();
      const started = Date.now();
      setTimeout(() => controller.abort(), 50);
      const result = await nut.notifier.send(testMessage(), recipient, controller.signal);
      results.push(result);
      nut.reset?.();
      assert.equal(result.status, 'retryable', JSON.stringify(result));
      assert.ok(Date.now() - started < Math.min(nut.timeoutMs, 1000), 'the abort was not honoured promptly');
    });

    test('close() releases every connection to the receiving end', { skip: skips.connections ?? false }, async () => {
      assert.equal((await send(testMessage(), nut.recipient)).status, 'delivered');
      await nut.notifier.close();
      closed = true;
      assert.ok(nut.openConnections, 'openConnections() is missing: implement it or skip with a reason');
      const open = await eventually(
        () => nut.openConnections?.() ?? 0,
        (n) => n === 0,
      );
      assert.equal(open, 0, `${open} connections still open after close()`);
      // A late send (a job finishing during shutdown) must answer, not throw or reconnect.
      const late = await send(testMessage(), nut.recipient);
      assert.equal(late.status, 'retryable', JSON.stringify(late));
      assert.equal(nut.openConnections(), 0);
    });

    test('no secret appears in any result or log line', async () => {
      if (!closed) {
        await nut.notifier.close();
        closed = true;
      }
      assert.ok(results.length > 0);
      const haystacks = [...results.map((r) => JSON.stringify(r)), ...ctx.logLines()];
      for (const secret of nut.secrets) {
        assert.ok(secret.length >= 6, 'a secret this short would match by accident');
        for (const h of haystacks) assert.ok(!h.includes(secret), `secret leaked in: ${h}`);
      }
    });
  });
}
