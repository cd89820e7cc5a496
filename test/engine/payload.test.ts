import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createTempDir } from '../helpers/env.js';
import { startTestService } from '../helpers/service.js';

test('a malformed payload fails the attempt for good, naming the job and the field', { timeout: 60_000 }, async () => {
  const tmp = await createTempDir();
  const svc = await startTestService({
    DATA_DIR: tmp.dir,
    DATABASE_URL: '',
    STORAGE_URL: '',
    JOB_QUOTA_CHECK_ATTEMPTS: '5',
    JOB_QUOTA_CHECK_BACKOFF_MS: '100',
  });
  try {
    // What a hand-edited row or an old producer could leave: the schema says owner is a string.
    await svc.engine.enqueue('quota-check', { owner: 42 } as unknown as { owner: string });
    const deadline = Date.now() + 20_000;
    let job;
    for (;;) {
      job = (await svc.engine.agenda.queryJobs({ name: 'quota-check' })).jobs.find((j) => j.type === 'normal');
      if (job?.failedAt || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(job?.failedAt, `the job failed: ${JSON.stringify(job)}`);
    assert.match(job.failReason ?? '', /quota-check: malformed payload \(owner: /);
    // Five attempts were allowed; a payload that can never parse is not retried.
    await new Promise((r) => setTimeout(r, 1_000));
    job = (await svc.engine.agenda.queryJobs({ name: 'quota-check' })).jobs.find((j) => j.type === 'normal');
    assert.equal(job?.failCount, 1);
    assert.equal(job?.nextRunAt ?? null, null);
  } finally {
    await svc.stop();
    await tmp.remove();
  }
});
