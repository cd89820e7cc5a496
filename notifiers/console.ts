import type { Logger } from '../src/logger.js';
import { defineNotifier, type Message, type Notifier, type SendResult } from '../src/notify/notifier.js';

/**
 * The embedded default: every notification becomes one info log line, so a fresh `npm start`
 * with no SMTP, webhook or LINE configured still shows notifications happening. Always
 * registered, never fails.
 */
export type ConsoleConfig = Record<string, never>;

declare module '../src/notify/notifier.js' {
  interface NotifierChannels {
    console: ConsoleConfig;
  }
}

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

export default defineNotifier({
  name: 'console',
  configKeys: [],
  fromEnv: () => ({}),
  create: (_config, { log }) => createConsoleNotifier(log),
  deliveryConcurrency: 2,
  // Owners with no address anywhere hear here (NOTIFY_CONSOLE_FALLBACK), so a fresh start shows notifications.
  fallback: true,
});
