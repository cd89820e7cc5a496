import type { Logger } from '../src/logger.js';
import { defineNotifier, type Message, type Notifier, type SendResult } from '../src/notify/notifier.js';

/**
 * The embedded default: every notification becomes one info log line, so a fresh `npm start`
 * with no SMTP, webhook or LINE configured still shows notifications happening. Always
 * registered, never fails.
 */
export type ConsoleConfig = Record<string, never>;

function createConsoleNotifier(log: Logger): Notifier {
  const clog = log.child({ notifier: 'console' });
  return {
    name: 'console',
    async send(message: Message, recipient: string): Promise<SendResult> {
      clog.info(
        {
          notification: {
            id: message.id,
            event: message.event,
            recipient,
            title: message.title,
            text: message.text,
            facts: message.facts,
            url: message.url,
          },
        },
        `notification to ${recipient}: ${message.title}`,
      );
      return { status: 'delivered', response: 'logged' };
    },
    async close() {},
  };
}

export default defineNotifier<ConsoleConfig>({
  name: 'console',
  fromEnv: () => ({}),
  create: (_config, { log }) => createConsoleNotifier(log),
});
