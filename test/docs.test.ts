import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';

import { generateReadme } from '../src/docs/write-readme.js';

// Compiled to dist/test/: the repository root is two levels up.
const README = join(import.meta.dirname, '..', '..', 'README.md');

test('the README tables generated from the definitions are current (run `npm run docs`)', async () => {
  const readme = await readFile(README, 'utf8');
  assert.equal(generateReadme(readme), readme, 'README.md is out of date: run `npm run docs` and commit it');
});
