#!/usr/bin/env node
import { mkdir } from 'node:fs/promises';

import { Command, Option } from 'commander';

import { registerVerbs } from './cli/index.js';
import type { Config, Role } from './config.js';
import { NightshiftError, toError } from './errors.js';
import { createLogger } from './logger.js';
import { isStep } from './pipeline/step.js';
import { loadConfig, registry } from './registry.js';
import { startService } from './service.js';
import { handleSignals } from './shutdown.js';
import { createStore } from './store/index.js';
import { VERSION } from './version.js';

/** Config for a person at a terminal: on error, the message names the key, no stack, exit 2. */
function configOrExit(role: Role, jobs?: string): Config {
  try {
    return loadConfig(process.env, role, { jobs });
  } catch (err) {
    process.stderr.write(`nightshift: ${toError(err).message}\n`);
    process.exit(2);
  }
}

const program = new Command('nightshift')
  .description('Background work for upload-driven apps: file pipeline, housekeeping, notifications.')
  .version(VERSION)
  // Bad usage exits 2 (help and --version 0), as the operator verbs do.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

program
  .command('start')
  .description('run the service')
  .addOption(new Option('--role <role>', 'which parts to run').choices(['all', 'api', 'worker']).default('all'))
  .option('--jobs <names>', 'run only these jobs, comma-separated (e.g. ocr,analyze); overrides WORKER_JOBS')
  .action(async (opts: { role: Role; jobs?: string }) => {
    const config = configOrExit(opts.role, opts.jobs);
    const log = createLogger(config.logLevel, { format: config.logFormat });
    try {
      const service = await startService(config, log);
      handleSignals(() => service.stop(), log);
    } catch (err) {
      // A bad config or an unreachable dependency is for a person at a terminal: the message
      // names the key (DATABASE_URL, REDIS_URL, STORAGE_URL, AWS_ACCESS_KEY_ID), no stack.
      if (err instanceof NightshiftError && (err.code === 'CONFIG_INVALID' || err.code === 'CONNECT_FAILED')) {
        process.stderr.write(`nightshift: ${err.message}\n`);
        process.exit(2);
      }
      log.fatal({ err: toError(err) }, 'nightshift failed to start');
      process.exit(1);
    }
  });

program
  .command('migrate')
  .description('create or upgrade the store schema, then exit (start migrates too; a one-shot job in a deployment)')
  .action(async () => {
    const config = configOrExit('worker');
    const log = createLogger(config.logLevel);
    try {
      await mkdir(config.dataDir, { recursive: true });
      const store = await createStore(config.database, { log, stepOrder: registry.jobs.filter(isStep).map((d) => d.name) });
      try {
        await store.migrate();
      } finally {
        await store.close();
      }
      log.info({ database: config.database.kind }, 'nightshift migrated');
    } catch (err) {
      log.fatal({ err: toError(err) }, 'nightshift migrate failed');
      process.exit(1);
    }
  });
registerVerbs(program);

await program.parseAsync(process.argv);
