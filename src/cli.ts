#!/usr/bin/env node
import { Command, Option } from 'commander';

import type { Role } from './config.js';
import { loadConfig } from './registry.js';
import { NightshiftError, toError } from './errors.js';
import { createLogger } from './logger.js';
import { startService } from './service.js';
import { handleSignals } from './shutdown.js';
import { registerVerbs } from './cli/index.js';
import { VERSION } from './version.js';

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
    let config;
    try {
      config = loadConfig(process.env, opts.role, { jobs: opts.jobs });
    } catch (err) {
      // Config errors are for a person at a terminal: the message names the key, no stack.
      process.stderr.write(`nightshift: ${toError(err).message}\n`);
      process.exit(2);
    }
    const log = createLogger(config.logLevel);
    try {
      const service = await startService(config, log);
      handleSignals(() => service.stop(), log);
    } catch (err) {
      if (err instanceof NightshiftError && err.code === 'CONFIG_INVALID') {
        process.stderr.write(`nightshift: ${err.message}\n`);
        process.exit(2);
      }
      log.fatal({ err: toError(err) }, 'nightshift failed to start');
      process.exit(1);
    }
  });

registerVerbs(program);

await program.parseAsync(process.argv);
