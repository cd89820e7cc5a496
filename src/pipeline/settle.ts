import type { JobServices } from '../engine/job.js';
import type { Logger } from '../logger.js';

/**
 * Move a file to its final status once every step is final. The store makes this atomic, so
 * of several steps finishing at once exactly one sees the transition (and, later, emits the event).
 */
export async function settleFile(services: JobServices, fileId: string, log: Logger): Promise<void> {
  const settled = await services.store.finalizeFile(fileId);
  if (!settled) return;
  log.info({ fileId, status: settled.status, error: settled.error ?? undefined }, `file ${settled.status}`);
}
