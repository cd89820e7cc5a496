import assert from 'node:assert/strict';
import { test } from 'node:test';

import { assertValidKey, assertValidPrefix, isValidKey, MAX_KEY_LENGTH, MAX_SEGMENT_LENGTH } from '../../src/blobs/keys.js';
import { errorCode, ErrorCodes } from '../../src/errors.js';
import { HOSTILE_KEYS } from './conformance.js';

test('ordinary keys are accepted unchanged', () => {
  for (const key of ['a', 'originals/2024/ab12.jpg', 'thumbs/x_y-z.v2.webp', '.hidden', 'a/..b', '...', 'A/B/C/D/E/F']) {
    assert.equal(assertValidKey(key), key);
  }
  assert.equal(isValidKey('x'.repeat(MAX_SEGMENT_LENGTH)), true);
  const long = Array.from({ length: 10 }, () => 'y'.repeat(MAX_KEY_LENGTH / 10 - 1)).join('/');
  assert.ok(long.length <= MAX_KEY_LENGTH);
  assert.equal(isValidKey(long), true);
});

test('hostile keys are rejected with INVALID_KEY and status 400', () => {
  for (const key of [...HOSTILE_KEYS, 'x'.repeat(MAX_SEGMENT_LENGTH + 1), 'a/b/', 'a/../b', 'C:\\x', 'a\tb', 'ﬁle']) {
    assert.throws(
      () => assertValidKey(key),
      (err: unknown) => errorCode(err) === ErrorCodes.INVALID_KEY && (err as { status?: number }).status === 400,
      JSON.stringify(key),
    );
  }
});

test('non-string keys from untyped callers are rejected, not coerced', () => {
  for (const key of [undefined, null, 42, { toString: () => 'a' }]) {
    assert.throws(
      () => assertValidKey(key as unknown as string),
      (err) => errorCode(err) === ErrorCodes.INVALID_KEY,
    );
  }
});

test('prefixes may be empty, end in "/" or stop mid-segment', () => {
  for (const prefix of ['', 'a', 'a/', 'a/b', 'a/b/', 'a/.', 'a/..', 'thumbs/ab']) assert.equal(assertValidPrefix(prefix), prefix);
  for (const prefix of ['/', '/a', 'a//', '../', 'a/../', './a', 'a\\', 'a b', 'a/\u0000', 'x'.repeat(MAX_KEY_LENGTH + 1)]) {
    assert.throws(
      () => assertValidPrefix(prefix),
      (err) => errorCode(err) === ErrorCodes.INVALID_KEY,
      JSON.stringify(prefix),
    );
  }
});

test('error messages show control characters escaped', () => {
  assert.throws(
    () => assertValidKey('a\nb'),
    (err: unknown) => (err as Error).message.includes('"a\\nb"'),
  );
});
