import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { ErrorCodes, isUserError, PermanentError } from '../../src/errors.js';
import { dedupeKeys } from '../../src/logger.js';
import { loadConfig } from '../../src/registry.js';
import { type Service, startService } from '../../src/service.js';
import { truncatedJpeg } from '../fixtures/images.js';
import { createTempDir } from '../helpers/env.js';
import { upload, waitForFinal } from '../helpers/service.js';
import { captureLogger, LEVEL, testEnv } from './logsink.js';

/** The keys of each object in a JSON text that appear more than once in that object. */
function duplicateKeys(text: string): string[] {
  const dups: string[] = [];
  const stack: Array<Set<string>> = [];
  // A small tokenizer: strings, and the structure around them; a string followed by ':' is a key.
  const re = /"((?:[^"\\]|\\.)*)"\s*(:)?|[{}[\]]/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0] === '{') stack.push(new Set());
    else if (m[0] === '}') stack.pop();
    else if (m[2] === ':' && stack.length > 0) {
      const keys = stack[stack.length - 1]!;
      if (keys.has(m[1]!)) dups.push(m[1]!);
      keys.add(m[1]!);
    }
  }
  return dups;
}

test('dedupeKeys keeps one key, the last value', () => {
  assert.deepEqual(duplicateKeys('{"a":1,"b":{"a":2},"a":3}'), ['a']);
  assert.equal(dedupeKeys('{"a":1,"b":2,"a":3}\n'), '{"a":3,"b":2}\n');
  assert.ok(isUserError(new PermanentError(ErrorCodes.CORRUPT_IMAGE, 'x')));
  assert.ok(!isUserError(new PermanentError(ErrorCodes.PAYLOAD_INVALID, 'x')));
});

test('pretty lines: time, level, job, file id, message, then the other fields, on one line', () => {
  const pretty = captureLogger('info', 'pretty');
  pretty.log.child({ job: 'ocr', fileId: 'f-1' }).info({ ms: 12 }, 'ocr finished in 12 ms');
  assert.equal(pretty.raw.length, 1);
  assert.match(pretty.raw[0]!, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: ocr f-1 ocr finished in 12 ms \{"ms":12\}$/);
});

describe('logs of a running service', () => {
  let tmp: { dir: string; remove(): Promise<void> };
  let service: Service;
  const logs = captureLogger('info');

  before(async () => {
    tmp = await createTempDir();
    service = await startService(loadConfig(testEnv({ DATA_DIR: tmp.dir, WORKER_JOBS: 'process-file,thumbnail' })), logs.log);
  });
  after(async () => {
    await service?.stop();
    await tmp?.remove();
  });

  test('a corrupt upload: steps log start and finish with durations, one info line with the reason, no stack, no job.failed; no key twice', async () => {
    const res = await upload(service.url!, await truncatedJpeg(0.3), 'broken.jpg', { contentType: 'image/jpeg' });
    assert.equal(res.status, 202);
    const id = res.body.id;
    // Only the thumbnail step runs here: analyze and ocr are not served by this process.
    const deadline = Date.now() + 20_000;
    while (!logs.lines().some((l) => l.fileId === id && typeof l.msg === 'string' && l.msg.startsWith('thumbnail finished'))) {
      assert.ok(Date.now() < deadline, 'no step finish line');
      await new Promise((r) => setTimeout(r, 100));
    }
    const mine = logs.lines().filter((l) => l.fileId === id);
    const started = mine.filter((l) => l.msg === 'thumbnail started');
    const finished = mine.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('thumbnail finished'));
    assert.equal(started.length, 1);
    assert.equal(finished.length, 1);
    assert.equal(finished[0]!.level, LEVEL.info);
    assert.equal(typeof finished[0]!.ms, 'number');
    assert.equal(finished[0]!.job, 'thumbnail');
    assert.equal(finished[0]!.outcome, 'failure');
    // No warn/error line for this file and no stack anywhere in its lines.
    assert.deepEqual(
      mine.filter((l) => (l.level as number) >= LEVEL.warn).map((l) => l.msg),
      [],
    );
    assert.ok(!logs.raw.some((l) => l.includes(id) && l.includes('"stack"')), 'no stack for a bad upload');
    // No admin job.failed for a user's bad file.
    assert.equal((await service.store.outbox.list({ event: 'job.failed', limit: 10 })).items.length, 0);

    for (const line of logs.raw) assert.deepEqual(duplicateKeys(line), [], line);
  });

  test('a finished file logs one info line with its reason', async () => {
    const res = await upload(service.url!, Buffer.alloc(0), 'empty.bin');
    const file = await waitForFinal(service.url!, res.body.id, 20_000);
    assert.equal(file.status, 'failed');
    const mine = logs.lines().filter((l) => l.fileId === res.body.id);
    const failed = mine.filter((l) => l.msg === 'file failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.level, LEVEL.info);
    assert.match(String(failed[0]!.error), /empty/);
    assert.deepEqual(
      mine.filter((l) => (l.level as number) >= LEVEL.warn).map((l) => l.msg),
      [],
    );
  });
});
