#!/usr/bin/env node
import { Command, Option } from 'commander';

import type { Role } from './config.js';
import { NightshiftError, toError } from './errors.js';
import { createLogger } from './logger.js';
import { loadServiceConfig, startService } from './service.js';
import { handleSignals } from './shutdown.js';

const program = new Command('nightshift').description('Background work for upload-driven apps: file pipeline, housekeeping, notifications.');

program
  .command('start')
  .description('run the service')
  .addOption(new Option('--role <role>', 'which parts to run').choices(['all', 'api', 'worker']).default('all'))
  .action(async (opts: { role: Role }) => {
    let config;
    try {
      config = loadServiceConfig(process.env, opts.role);
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

await program.parseAsync(process.argv);
