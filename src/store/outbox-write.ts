import type { NotificationRecord, OutboxEntry, OutboxRepo } from './outbox-types.js';

/**
 * Write planned outbox entries through a repository's own insert and digest append, in order;
 * returns the rows created (an entry whose key exists already creates none). Both stores run
 * it inside the write that settles the file.
 */
export async function writeEntries(repo: Pick<OutboxRepo, 'insert' | 'appendToDigest'>, entries: readonly OutboxEntry[]): Promise<NotificationRecord[]> {
  const created: NotificationRecord[] = [];
  for (const e of entries) {
    const r = e.kind === 'row' ? await repo.insert(e.row) : await repo.appendToDigest(e.digestKey, e.item, e.create);
    if (r.created) created.push(r.record);
  }
  return created;
}
