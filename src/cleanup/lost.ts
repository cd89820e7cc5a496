import type { JobServices } from '../engine/job.js';
import type { Logger } from '../logger.js';
import type { FileRecord } from '../store/types.js';

/** Work younger than this may still be on its way into the queue: leave it alone. */
export const LOST_AFTER_MS = 10 * 60_000;
/** Files looked at per run, per kind; the rest wait for the next run. */
const MAX_FILES = 1_000;
const PAGE = 200;

/**
 * Files whose job was lost between the store write and the enqueue (a crash in between, or a
 * reprocess cut short): left `uploaded` with no process-file job, or `processing` with a pending
 * step that no job will ever run. Enqueues the missing job again; the job itself re-checks the
 * file's status, so a late original cannot do the work twice.
 */
export async function requeueLostWork(services: JobServices, now: Date, log: Logger): Promise<number> {
  const { store, maintenance, enqueue } = services;
  const cutoff = now.getTime() - LOST_AFTER_MS;
  let requeued = 0;

  const uploaded: FileRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listFiles({ status: 'uploaded', limit: PAGE, cursor });
    uploaded.push(...page.items.filter((f) => f.uploadedAt.getTime() < cutoff));
    cursor = page.nextCursor ?? undefined;
  } while (cursor && uploaded.length < MAX_FILES);
  for (const file of uploaded) {
    if (await maintenance.hasLiveJob('process-file', { fileId: file.id })) continue;
    await enqueue('process-file', { fileId: file.id });
    log.warn({ fileId: file.id }, 'uploaded file had no process-file job: enqueued again');
    requeued++;
  }

  for (const { id } of await store.reports.findProcessingFiles(new Date(cutoff), MAX_FILES)) {
    const file = await store.getFile(id);
    for (const step of file?.steps ?? []) {
      if (step.status !== 'pending' || (await maintenance.hasLiveJob(step.name, { fileId: id }))) continue;
      await enqueue(step.name, { fileId: id });
      log.warn({ fileId: id, step: step.name }, 'pending step had no job: enqueued again');
      requeued++;
    }
  }
  return requeued;
}
