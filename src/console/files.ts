import { z } from 'zod';

import { formatBytes } from '../format.js';
import { OWNER } from '../http/files.js';
import { FILE_STATUSES } from '../store/types.js';
import type { ConsoleDeps } from './deps.js';
import { badge, html, table, when } from './html.js';
import type { PageView } from './layout.js';

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');
const blankIsAbsent = (v: unknown) => (v === '' ? undefined : v);
export const FilesQuery = z.object({
  status: z.preprocess(blankIsAbsent, z.enum(['uploaded', 'processing', 'completed', 'failed']).optional()),
  owner: z.preprocess(blankIsAbsent, OWNER.optional()),
  from: z.preprocess(blankIsAbsent, Day.optional()),
  to: z.preprocess(blankIsAbsent, Day.optional()),
  q: z.preprocess(blankIsAbsent, z.string().max(255).optional()),
  cursor: z.preprocess(blankIsAbsent, z.string().max(512).optional()),
});
type Query = z.infer<typeof FilesQuery>;

const DAY_MS = 86_400_000;

function filters(q: Query) {
  const options = FILE_STATUSES.map((s) => html`<option value="${s}" ${q.status === s ? html` selected` : ''}>${s}</option>`);
  return html`<form class="filters" method="get" action="/files" role="search">
    <label
      >Status<select name="status">
        <option value="">any</option>
        ${options}
      </select></label
    >
    <label>Owner<input name="owner" value="${q.owner ?? ''}" autocomplete="off" /></label>
    <label>Uploaded from<input type="date" name="from" value="${q.from ?? ''}" /></label>
    <label>Uploaded to<input type="date" name="to" value="${q.to ?? ''}" /></label>
    <label>Filename contains<input type="search" name="q" value="${q.q ?? ''}" /></label>
    <button type="submit">Filter</button> <a href="/files">clear</a>
  </form>`;
}

/** The files, newest first, with the filters above them. */
export async function filesPage(deps: ConsoleDeps, q: Query): Promise<PageView> {
  const page = await deps.store.listFiles({
    status: q.status,
    owner: q.owner,
    uploadedAfter: q.from ? new Date(`${q.from}T00:00:00Z`) : undefined,
    uploadedBefore: q.to ? new Date(new Date(`${q.to}T00:00:00Z`).getTime() + DAY_MS) : undefined,
    filenameContains: q.q,
    cursor: q.cursor,
    limit: 50,
  });
  const rows = page.items.map((f) => ({
    cells: [html`<a href="/files/${f.id}">${f.filename}</a>`, badge(f.status), f.owner ?? '–', formatBytes(f.size), when(f.uploadedAt), f.error ?? ''],
  }));
  const columns = [
    { label: 'Filename', wrap: true },
    { label: 'Status' },
    { label: 'Owner' },
    { label: 'Size', num: true },
    { label: 'Uploaded' },
    { label: 'Reason', wrap: true },
  ];
  const params = new URLSearchParams(
    Object.entries({ ...q, cursor: page.nextCursor ?? '' }).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''),
  );
  const live = html`${table(columns, rows, 'no files match')}
  ${page.nextCursor ? html`<p class="pager"><a href="/files?${params.toString()}">Older files →</a></p>` : ''}`;
  return { title: 'Files', nav: 'files', head: filters(q), live };
}
