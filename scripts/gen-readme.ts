import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { replaceBlock } from '../src/docs/config-table.js';
import { readmeBlocks } from './readme-blocks.js';

/** `npm run docs`: rewrite every generated block of README.md from the definitions. */
const path = join(import.meta.dirname, '..', '..', 'README.md');
const before = await readFile(path, 'utf8');
let after = before;
for (const [name, content] of Object.entries(readmeBlocks())) after = replaceBlock(after, name, content);
if (after !== before) await writeFile(path, after);
process.stdout.write(after === before ? 'README.md is current\n' : 'README.md updated\n');
