import { z } from 'zod';

import { ErrorCodes, NightshiftError } from '../errors.js';

/**
 * Config sections. Every section of the configuration (core, each notifier, notify rules,
 * schedules, jobs) is read from the environment by its own schema; problems come back as
 * `{ key, message }` issues, which the loader merges as data into one CONFIG_INVALID error.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** One problem with one environment variable. */
export interface ConfigIssue {
  /** The variable, e.g. `SMTP_URL`. */
  readonly key: string;
  /** What is wrong with it, for a person: "must be an integer >= 1". Never the value of a secret. */
  readonly message: string;
}

/** One documented environment variable: the README's configuration rows are generated from these. */
export interface ConfigKeyDoc {
  readonly key: string;
  /** The default as written in the environment, or undefined when unset means "off". */
  readonly default?: string | undefined;
  /** One line: what it does, its units. Markdown. */
  readonly description: string;
}

/** CONFIG_INVALID carrying its issues as data; the message names every key, one per line. */
export class ConfigError extends NightshiftError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super(ErrorCodes.CONFIG_INVALID, `invalid configuration:\n${issues.map((i) => `  ${i.key}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = Object.freeze([...issues]);
  }
}

/** Throw a ConfigError for one key. */
export function configIssue(key: string, message: string): ConfigError {
  return new ConfigError([{ key, message }]);
}

/** zod's issues as config issues: the first path element is the variable. */
export function zodIssues(error: z.ZodError): ConfigIssue[] {
  return error.issues.map((i) => ({ key: i.path.length > 0 ? i.path.map(String).join('.') : '(env)', message: i.message }));
}

/** The issues a section's reader threw (every config problem is a ConfigError), or rethrow anything else. */
export function issuesOf(err: unknown): ConfigIssue[] {
  if (err instanceof ConfigError) return [...err.issues];
  throw err;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/**
 * The one boolean parser: `true/false/1/0/yes/no/on/off`, any case, surrounding blanks
 * ignored. Unset or blank gives `fallback`; anything else is undefined (the caller reports it).
 */
export function parseBoolean(raw: string | undefined, fallback: boolean): boolean | undefined {
  const s = raw?.trim().toLowerCase() ?? '';
  if (s === '') return fallback;
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  return undefined;
}

export const BOOLEAN_HINT = 'must be true or false (also 1/0, yes/no, on/off)';

/** Read one boolean variable, throwing a ConfigError naming it when it is not one. */
export function booleanFromEnv(env: Env, key: string, fallback: boolean): boolean {
  const value = parseBoolean(env[key], fallback);
  if (value === undefined) throw configIssue(key, BOOLEAN_HINT);
  return value;
}

/** The same parser as a zod field, for sections read by a schema. */
export function zBoolean(fallback: boolean) {
  return z.preprocess((v) => (v === undefined || typeof v === 'string' ? (parseBoolean(v, fallback) ?? v) : v), z.boolean({ error: BOOLEAN_HINT }));
}
