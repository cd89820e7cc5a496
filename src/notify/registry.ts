import { ErrorCodes, NightshiftError, errorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ChannelName, Notifier, NotifierDefinition } from './notifier.js';

/** A notifier whose config block was read and validated at start-up, ready to be made. */
export interface ConfiguredNotifier {
  readonly name: ChannelName;
  create(deps: { readonly log: Logger }): Notifier;
}

/**
 * Read every notifier's config block once. Problems in several blocks are reported together
 * in one CONFIG_INVALID, each line naming its key.
 */
export function readNotifierConfigs(
  env: Readonly<Record<string, string | undefined>>,
  definitions: readonly NotifierDefinition<unknown>[],
): ConfiguredNotifier[] {
  const configured: ConfiguredNotifier[] = [];
  const problems: string[] = [];
  for (const definition of definitions) {
    try {
      const config = definition.fromEnv(env);
      if (config !== undefined) configured.push({ name: definition.name, create: (deps) => definition.create(config, deps) });
    } catch (err) {
      if (errorCode(err) !== ErrorCodes.CONFIG_INVALID) throw err;
      problems.push((err as Error).message.replace(/^invalid configuration:\n/, ''));
    }
  }
  if (problems.length > 0) throw new NightshiftError(ErrorCodes.CONFIG_INVALID, `invalid configuration:\n${problems.join('\n')}`);
  return configured;
}
