import { randomBytes } from 'node:crypto';

import { createLineNotifier } from '../../notifiers/line.js';
import { startLineServer } from '../helpers/line-server.js';
import { type ReceivedNotification, runNotifierConformance } from './conformance.js';

const TIMEOUT_MS = 500;

runNotifierConformance('line', async (ctx) => {
  const server = await startLineServer();
  const recipient = `U${randomBytes(16).toString('hex')}`;
  const notifier = createLineNotifier(
    { channelAccessToken: server.token, channelSecret: undefined, apiBaseUrl: server.url, timeoutMs: TIMEOUT_MS },
    { log: ctx.log },
  );
  /** The first line of what the user sees: altText for Flex, text for a text message. */
  const titleOf = (m: Record<string, unknown> | undefined): string => String((m?.type === 'flex' ? m.altText : m?.text) ?? '').split('\n')[0] ?? '';

  return {
    notifier,
    recipient,
    timeoutMs: TIMEOUT_MS,
    secrets: [server.token],
    received(): ReceivedNotification[] {
      // LINE accepts a retry key once and answers every later push with the same key 409
      // "already accepted" (nothing reaches the user again). Those repeats are listed as copies
      // carrying the id, which is what the suite's "recognisable duplicate" test asks of a
      // channel; a second accepted delivery would still show up here and fail "exactly once".
      const accepted = server.deliveries
        .filter((d) => d.endpoint === 'push' && d.retryKey !== undefined)
        .map((d) => ({ id: d.retryKey as string, title: titleOf(d.messages[0]), recipient: d.to ?? '' }));
      const repeats = server.attempts
        .filter((a) => a.endpoint === 'push' && a.outcome === 409)
        .flatMap((a) => accepted.filter((d) => d.id === a.retryKey).slice(0, 1));
      return [...accepted, ...repeats];
    },
    permanentProblem: () => 'not-a-line-user-id',
    temporaryProblem() {
      server.script({ kind: 'status', status: 503 });
      return recipient;
    },
    hang() {
      server.script({ kind: 'hang' });
      return recipient;
    },
    reset: () => server.reset(),
    openConnections: () => server.openConnections(),
    cleanup: () => server.close(),
  };
});
