import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { readmeBlocks } from '../../scripts/readme-blocks.js';
import { renderConfigTable, replaceBlock } from '../../src/docs/config-table.js';

const README = join(import.meta.dirname, '..', '..', '..', 'README.md');

describe('README configuration rows', () => {
  test('every generated block is current (run `npm run docs` after changing a definition)', async () => {
    const readme = await readFile(README, 'utf8');
    for (const [name, content] of Object.entries(readmeBlocks())) {
      assert.equal(replaceBlock(readme, name, content), readme, `the ${name} block of README.md is out of date: npm run docs`);
    }
  });

  test('renderConfigTable and replaceBlock', () => {
    const table = renderConfigTable([
      { heading: 'x', note: 'a|b' },
      { key: 'X_ON', default: 'true', description: 'turns x on' },
      { key: 'X_URL', description: 'where' },
    ]);
    assert.equal(
      table,
      ['| variable | default | meaning |', '|---|---|---|', '| **x** | | a\\|b |', '| `X_ON` | `true` | turns x on |', '| `X_URL` | | where |'].join('\n'),
    );
    const doc = 'head\n<!-- t:start -->\nold\n<!-- t:end -->\ntail\n';
    assert.equal(replaceBlock(doc, 't', 'new'), 'head\n<!-- t:start -->\nnew\n<!-- t:end -->\ntail\n');
    assert.throws(() => replaceBlock(doc, 'missing', 'x'), /missing:start/);
  });
});
