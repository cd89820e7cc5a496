import { ConfigError, type ConfigIssue, type Env, issuesOf } from '../config/section.js';
import type { Logger } from '../logger.js';
import type { ChannelName, Notifier, NotifierDefinition } from './notifier.js';

/** A notifier whose config block was read and validated at start-up, ready to be made. */
export interface ConfiguredNotifier {
  readonly name: ChannelName;
  readonly definition: NotifierDefinition;
  create(deps: { readonly log: Logger }): Notifier;
}

/**
 * Read the config block of every notifier in the registry (handed in by the composition root)
 * once. Issues in several blocks are thrown together in one ConfigError.
 */
export function readNotifierConfigs(env: Env, definitions: readonly NotifierDefinition[]): ConfiguredNotifier[] {
  const configured: ConfiguredNotifier[] = [];
  const issues: ConfigIssue[] = [];
  for (const definition of definitions) {
    try {
      const config = definition.fromEnv(env);
      if (config !== undefined) configured.push({ name: definition.name, definition, create: (deps) => definition.create(config, deps) });
    } catch (err) {
      issues.push(...issuesOf(err));
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return configured;
}

/** The registry's own consistency: unique names that are safe as job-name and field suffixes, one fallback at most. */
export function checkRegistry(definitions: readonly NotifierDefinition[]): void {
  const seen = new Set<string>();
  for (const d of definitions) {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(d.name)) throw new Error(`notifier name "${d.name}" must be lowercase letters, digits and -`);
    if (seen.has(d.name)) throw new Error(`notifier "${d.name}" is registered twice`);
    seen.add(d.name);
  }
  if (definitions.filter((d) => d.fallback).length > 1) throw new Error('more than one notifier is marked as the fallback');
}
