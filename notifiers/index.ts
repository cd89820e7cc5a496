import type { NotifierDefinition } from '../src/notify/notifier.js';
import consoleNotifier from './console.js';
import email from './email.js';
import line from './line.js';
import slack from './slack.js';
import webhook from './webhook.js';

/**
 * Every notifier nightshift ships. A notifier is one file in notifiers/ plus one line here; the
 * composition root (src/service.ts) hands this list to the core, which derives from it the
 * channels, owner routing, delivery jobs, API enums, config checks and README rows.
 * `console` is last: the fallback that is always there.
 */
export const notifierDefinitions: readonly NotifierDefinition[] = [line, email, webhook, slack, consoleNotifier];
