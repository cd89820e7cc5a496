import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { registry } from '../registry.js';
import { renderConfigTable, renderJobTable, replaceBlock, scheduleRows } from './readme.js';

/** The README with every generated block made anew from the registry's definitions. */
export function generateReadme(readme: string): string {
  let out = replaceBlock(readme, 'job-knobs', renderJobTable(registry.jobs));
  out = replaceBlock(out, 'schedules', renderConfigTable(scheduleRows(registry.jobs)));
  return out;
}

// `npm run docs` (from the repository root): rewrite README.md in place.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const path = 'README.md';
  const before = await readFile(path, 'utf8');
  const after = generateReadme(before);
  if (after !== before) await writeFile(path, after);
  process.stdout.write(after === before ? 'README.md is current\n' : 'README.md updated\n');
}
