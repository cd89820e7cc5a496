import type { NotifierDefinition } from '../src/notify/notifier.js';
import consoleNotifier from './console.js';
import email from './email.js';
import line from './line.js';
import webhook from './webhook.js';

/**
 * Every notifier nightshift ships; the core (src/notify/registry.ts) reads their config blocks
 * and registers the configured ones. `console` is last: the fallback that is always there.
 */
export const notifierDefinitions: readonly NotifierDefinition<unknown>[] = [line, email, webhook, consoleNotifier];
