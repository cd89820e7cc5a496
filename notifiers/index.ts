import { ErrorCodes, NightshiftError, errorCode } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import type { ChannelName, Notifier, NotifierDefinition } from '../src/notify/notifier.js';
import consoleNotifier from './console.js';
import email from './email.js';
import line from './line.js';
import webhook from './webhook.js';

/** Every notifier nightshift ships. `console` is last: it is the fallback that is always there. */
export const notifierDefinitions: readonly NotifierDefinition<unknown>[] = [line, email, webhook, consoleNotifier];

/**
 * Read every notifier's config block, then create the configured ones (`console` always).
 * Bad values in several blocks are reported together in one CONFIG_INVALID, each line naming
 * its key, so start-up fails once with everything to fix.
 */
export function createNotifiers(
  env: Readonly<Record<string, string | undefined>>,
  deps: { readonly log: Logger },
  definitions: readonly NotifierDefinition<unknown>[] = notifierDefinitions,
): Map<ChannelName, Notifier> {
  const configured: Array<[NotifierDefinition<unknown>, unknown]> = [];
  const problems: string[] = [];
  for (const definition of definitions) {
    try {
      const config = definition.fromEnv(env);
      if (config !== undefined) configured.push([definition, config]);
    } catch (err) {
      if (errorCode(err) !== ErrorCodes.CONFIG_INVALID) throw err;
      problems.push((err as Error).message.replace(/^invalid configuration:\n/, ''));
    }
  }
  if (problems.length > 0) throw new NightshiftError(ErrorCodes.CONFIG_INVALID, `invalid configuration:\n${problems.join('\n')}`);
  return new Map(configured.map(([definition, config]) => [definition.name, definition.create(config, deps)]));
}
