import type { Command } from 'commander';

import { controlVerbs } from './control.js';
import { setupVerbs } from './doctor.js';
import { fileVerbs } from './files.js';
import { inspectVerbs } from './inspect.js';
import { notificationVerbs } from './notifications.js';

/** Every operator verb besides `start`; each opens the same config, store and engine as the service. */
export function registerVerbs(program: Command): void {
  inspectVerbs(program);
  const jobs = program.commands.find((c) => c.name() === 'jobs')!;
  controlVerbs(program, jobs);
  fileVerbs(program);
  notificationVerbs(program);
  setupVerbs(program);
}
