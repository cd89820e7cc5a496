import type { JobServices } from '../engine/job.js';
import { toError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { FileEventPayload } from '../notify/events.js';
import type { MessageLinks } from '../notify/links.js';
import type { FileRecord } from '../store/types.js';
import { stepResult } from './result.js';

/**
 * Move a file to its final status once every step is final. The store makes this atomic, so
 * of several steps finishing at once exactly one sees the transition and tells the owner.
 */
export async function settleFile(services: JobServices, fileId: string, log: Logger): Promise<void> {
  const settled = await services.store.finalizeFile(fileId);
  if (settled) await announce(services, settled, log);
}

/** Fail a file outright (a job that failed for good before any step), and tell the owner. */
export async function failFile(services: Pick<JobServices, 'store' | 'notify' | 'config'>, fileId: string, reason: string, log: Logger): Promise<void> {
  const failed = await services.store.failFile(fileId, reason);
  if (failed) await announce(services, failed, log);
}

async function announce(services: Pick<JobServices, 'notify' | 'config'>, file: FileRecord, log: Logger): Promise<void> {
  log.info({ fileId: file.id, status: file.status, error: file.error ?? undefined }, `file ${file.status}`);
  if (file.status !== 'completed' && file.status !== 'failed') return;
  try {
    await services.notify.emit(file.status === 'completed' ? 'file.completed' : 'file.failed', await fileEvent(file, services.notify.links));
  } catch (err) {
    // The file's outcome is recorded; a notification problem must not undo or retry the work.
    log.error({ err: toError(err), fileId: file.id }, 'could not queue the file notification');
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
