import type { FileRecord, Store } from '../store/types.js';
import type { ConsoleDeps } from './deps.js';
import { html, table, when } from './html.js';
import { action, type PageView } from './layout.js';
import type { ConsoleSession } from './session.js';

/** Failed files read per visit (newest first): groups count within these. */
const SCAN = 5_000;
const PAGE = 500;

export interface FailureGroup {
  /** The file's error, "<step>: <message>". */
  readonly reason: string;
  readonly step: string;
  readonly fileIds: string[];
  readonly newest: Date;
}

/** Failed files grouped by their reason (step and message), biggest group first. */
export async function failureGroups(store: Store): Promise<{ groups: FailureGroup[]; scanned: number; more: boolean }> {
  const files: FileRecord[] = [];
  let cursor: string | undefined;
  let more = false;
  while (files.length < SCAN) {
    const page = await store.listFiles({ status: 'failed', limit: PAGE, cursor });
    files.push(...page.items);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
    more = files.length >= SCAN;
  }
  const byReason = new Map<string, FailureGroup>();
  for (const f of files) {
    const reason = f.error ?? 'no reason recorded';
    const g = byReason.get(reason);
    if (g) g.fileIds.push(f.id);
    else byReason.set(reason, { reason, step: reason.includes(': ') ? reason.slice(0, reason.indexOf(': ')) : '–', fileIds: [f.id], newest: f.uploadedAt });
  }
  return { groups: [...byReason.values()].sort((a, b) => b.fileIds.length - a.fileIds.length), scanned: files.length, more };
}

export async function failuresPage(deps: ConsoleDeps, session: ConsoleSession): Promise<PageView> {
  const [{ groups, scanned, more }, progress] = await Promise.all([
    failureGroups(deps.store),
    Promise.all(deps.batches.recent().map((b) => deps.batches.progress(deps.store, b))),
  ]);
  const rows = groups.map((g) => ({
    cells: [
      html`${g.reason} <a href="/files/${g.fileIds[0]}" class="muted">newest file</a>`,
      g.step,
      g.fileIds.length,
      when(g.newest),
      action(session, '/failures/reprocess', 'Reprocess these', {
        hidden: { reason: g.reason },
        title: `Reprocess the ${g.fileIds.length} files failed with ${g.reason}`,
      }),
    ],
  }));
  const batches = progress.map(
    (p) =>
      html`<li class="batch">
        <strong>${p.batch.label}</strong>:
        <span data-progress>${p.settled} of ${p.total} settled</span>${p.running ? `, ${p.running} running` : ''}${p.failed ? `, ${p.failed} failed again` : ''}
        <br /><progress max="${p.total}" value="${p.settled}" aria-label="Reprocess of ${p.batch.label}">${p.settled} of ${p.total}</progress>
        <span class="muted">started ${when(p.batch.startedAt)}</span>
      </li>`,
  );
  const live = html`${
      batches.length
        ? html`<section class="card" aria-labelledby="batches-h">
            <h2 id="batches-h">Reprocessing</h2>
            <ul>
              ${batches}
            </ul>
          </section>`
        : ''
    }
    <p class="muted">
      ${scanned} failed file${scanned === 1 ? '' : 's'}${more ? ` (the newest ${scanned} are grouped)` : ''} in ${groups.length}
      group${groups.length === 1 ? '' : 's'}.
    </p>
    ${table([{ label: 'Reason', wrap: true }, { label: 'Step' }, { label: 'Files', num: true }, { label: 'Newest' }, { label: 'Action' }], rows, 'no failed files')}`;
  return { title: 'Failures', nav: 'failures', live };
}
