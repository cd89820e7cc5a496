import { jobDefinitions } from '../jobs/index.js';
import { notifierDefinitions } from '../notifiers/index.js';
import { type Config, type ConfigOverrides, type ConfigRegistry, parseConfig, type Role } from './config.js';
import { checkRegistry } from './notify/registry.js';

/**
 * The composition root's registry: the only module of the core that imports jobs/ and
 * notifiers/. Everything else receives these lists (or what is derived from them).
 */
export const registry = {
  jobs: jobDefinitions,
  notifiers: notifierDefinitions,
} as const satisfies ConfigRegistry;

/** Read the config against the registry: what the CLI and tests call. */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
  role: Role = 'all',
  overrides: Omit<ConfigOverrides, 'role'> = {},
): Config {
  checkRegistry(registry.notifiers);
  return parseConfig(env, registry, { ...overrides, role });
}
