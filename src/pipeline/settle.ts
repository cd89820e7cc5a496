import type { JobServices } from '../engine/job.js';
import { toError } from '../errors.js';
import { faultPoint } from '../fault-points.js';
import type { Logger } from '../logger.js';
import type { FileEventPayload } from '../notify/events.js';
import type { MessageLinks } from '../notify/links.js';
import type { OutboxEntry } from '../store/outbox-types.js';
import type { FileRecord, OutboxPlanner, SettledFile } from '../store/types.js';
import { stepResult } from './result.js';

type SettleServices = Pick<JobServices, 'store' | 'notify' | 'config'>;

/**
 * Move a file to its final status once every step is final. The store makes this atomic, so
 * of several steps finishing at once exactly one sees the transition and tells the owner. The
 * owner's notification rows commit with the status (a transactional outbox): a crash after the
 * commit leaves rows the sweeper schedules, never a file whose message is lost.
 */
export async function settleFile(services: SettleServices, fileId: string, log: Logger): Promise<void> {
  const settled = await services.store.finalizeFile(fileId, planFileEvent(services, log));
  if (settled) await announce(services, settled, log);
}

/**
 * Fail a file outright (a job that failed for good before any step, a stuck step out of
 * attempts), and tell the owner (`file.failed`) in the same commit. `also` plans more entries
 * for that commit (cleanup's `file.stuck` to admins). Returns the failed file, or null if it
 * was already final.
 */
export async function failFile(services: SettleServices, fileId: string, reason: string, log: Logger, also?: OutboxPlanner): Promise<SettledFile | null> {
  const owner = planFileEvent(services, log);
  const planner: OutboxPlanner = also ? async (file) => [...(await owner(file)), ...(await guarded(also, file, log))] : owner;
  const failed = await services.store.failFile(fileId, reason, planner);
  if (failed) await announce(services, failed, log);
  return failed;
}

function planFileEvent(services: SettleServices, log: Logger): OutboxPlanner {
  return (file) =>
    guarded(
      async (f) => services.notify.plan(f.status === 'completed' ? 'file.completed' : 'file.failed', await fileEvent(f, services.notify.links)),
      file,
      log,
    );
}

/** The file's outcome is recorded either way: a notification problem must not undo or retry the work. */
async function guarded(planner: OutboxPlanner, file: FileRecord, log: Logger): Promise<readonly OutboxEntry[]> {
  try {
    return await planner(file);
  } catch (err) {
    log.error({ err: toError(err), fileId: file.id }, 'could not plan the file notification');
    return [];
  }
}

async function announce(services: SettleServices, file: SettledFile, log: Logger): Promise<void> {
  log.info({ fileId: file.id, status: file.status, error: file.error ?? undefined }, `file ${file.status}`);
  faultPoint('crash-after-settle-commit');
  try {
    await services.notify.schedule(file.notifications);
  } catch (err) {
    // The rows are committed: the outbox sweeper schedules any whose job is missing.
    log.error({ err: toError(err), fileId: file.id }, 'could not schedule the file notification; the sweeper will');
  }
}

export async function fileEvent(file: FileRecord, links: MessageLinks): Promise<FileEventPayload> {
  const analysis = stepResult(file, 'analyze');
  const ocr = stepResult(file, 'ocr');
  const facts: Array<{ label: string; value: string }> = [];
  const top = analysis?.labels[0];
  if (top) facts.push({ label: 'Top label', value: `${top.label} (${Math.round(top.score * 100)}%)` });
  if (analysis) facts.push({ label: 'Size', value: `${analysis.width}×${analysis.height}` });
  if (ocr && ocr.text.trim() !== '') facts.push({ label: 'Text', value: ocr.text.trim().slice(0, 200) });
  const thumbnailKey = stepResult(file, 'thumbnail')?.thumbnailKey;
  return {
    fileId: file.id,
    owner: file.owner,
    filename: file.filename,
    status: file.status === 'completed' ? 'completed' : 'failed',
    error: file.error,
    runStartedAt: file.startedAt,
    facts,
    thumbnailUrl: typeof thumbnailKey === 'string' ? await links.thumbnail({ id: file.id, thumbnailKey }) : undefined,
    originalUrl: await links.original(file),
  };
}
