import { formatBytes, formatMs } from '../format.js';
import { linkPaths } from '../links.js';
import { fileResult } from '../pipeline/result.js';
import type { FileRecord } from '../store/types.js';
import type { ConsoleDeps } from './deps.js';
import { badge, type Html, html, table, when } from './html.js';
import { action, type PageView } from './layout.js';
import type { ConsoleSession } from './session.js';

/** Keys of the merged result shown elsewhere on the page (or too long to list as facts). */
const NOT_FACTS = new Set(['text', 'words', 'labels', 'thumbnailKey', 'dominantColours']);

function value(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(3);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function results(file: FileRecord, thumbnailUrl: string | null): Html {
  const r = (fileResult(file) ?? {}) as Record<string, unknown>;
  const labels = Array.isArray(r.labels) ? (r.labels as Array<{ label?: unknown; score?: unknown; source?: unknown }>) : [];
  const colours = Array.isArray(r.dominantColours) ? (r.dominantColours as Array<{ hex?: unknown; share?: unknown }>) : [];
  const facts = Object.entries(r).filter(([k]) => !NOT_FACTS.has(k));
  const text = typeof r.text === 'string' ? r.text : null;
  return html`<div class="grid">
      <section class="card" aria-labelledby="thumb-h">
        <h2 id="thumb-h">Thumbnail</h2>
        ${thumbnailUrl && typeof r.thumbnailKey === 'string' ? html`<img class="thumb" src="${thumbnailUrl}" alt="Thumbnail of ${file.filename}" />` : html`<p class="muted">no thumbnail</p>`}
      </section>
      <section class="card" aria-labelledby="labels-h">
        <h2 id="labels-h">Labels</h2>
        ${
          labels.length
            ? html`<ul>
                ${labels.map((l) => html`<li>${value(l.label)} <span class="muted">${value(l.score)} (${value(l.source)})</span></li>`)}
              </ul>`
            : html`<p class="muted">no labels</p>`
        }
      </section>
      <section class="card" aria-labelledby="facts-h">
        <h2 id="facts-h">Facts</h2>
        ${
          facts.length
            ? html`<dl class="facts">
                ${facts.map(
                  ([k, v]) =>
                    html`<dt>${k}</dt>
                      <dd>${value(v)}</dd>`,
                )}${
                  colours.length
                    ? html`<dt>colours</dt>
                        <dd>${colours.map((c) => value(c.hex)).join(' ')}</dd>`
                    : ''
                }
              </dl>`
            : html`<p class="muted">no facts yet</p>`
        }
      </section>
    </div>
    <section class="card" aria-labelledby="ocr-h">
      <h2 id="ocr-h">OCR text</h2>
      ${text === null ? html`<p class="muted">no OCR result</p>` : text === '' ? html`<p class="muted">no text${typeof r.textReason === 'string' ? `: ${r.textReason}` : ''}</p>` : html`<pre>${text}</pre>`}
    </section>`;
}

/** One file: its steps, results and the notifications sent about it. `session` null: opened read-only through a signed link. */
export async function filePage(deps: ConsoleDeps, file: FileRecord, session: ConsoleSession | null): Promise<PageView> {
  const sent = await deps.store.outbox.list({ owner: file.owner ?? undefined, limit: 200 });
  const about = sent.items.filter((n) => n.key.includes(file.id));
  const thumbnailUrl = session ? linkPaths.pageThumbnail(file.id) : deps.links.sign(linkPaths.pageThumbnail(file.id));
  const steps = file.steps.map((s) => ({ cells: [s.name, badge(s.status), s.attempts, formatMs(s.durationMs), s.error ?? ''], data: { step: s.name } }));
  const notes = about.map((n) => ({
    cells: [session ? html`<a href="/notifications/${n.id}">${n.event}</a>` : n.event, n.channel, badge(n.status), when(n.sentAt ?? n.updatedAt)],
  }));
  const head = session
    ? html`<div class="actions">
        ${action(session, `/files/${encodeURIComponent(file.id)}/reprocess`, 'Reprocess this file')}<a href="/files">← all files</a>
      </div>`
    : html`<p class="notice" role="status">
        Read-only view through a signed link. <a href="/sign-in?next=${encodeURIComponent(linkPaths.page(file.id))}">Sign in</a> to act on it.
      </p>`;
  const live = html`<section class="card" aria-labelledby="about-h">
      <h2 id="about-h">${file.filename} ${badge(file.status)}</h2>
      ${file.error ? html`<p class="error-box" role="alert"><strong>Reason:</strong> <span data-reason>${file.error}</span></p>` : ''}
      <dl class="facts">
        <dt>id</dt>
        <dd>${file.id}</dd>
        <dt>owner</dt>
        <dd>${file.owner ?? '–'}</dd>
        <dt>type</dt>
        <dd>${file.contentType}</dd>
        <dt>size</dt>
        <dd>${formatBytes(file.size)}</dd>
        <dt>uploaded</dt>
        <dd>${when(file.uploadedAt)}</dd>
        <dt>started</dt>
        <dd>${when(file.startedAt)}</dd>
        <dt>finished</dt>
        <dd>${when(file.completedAt)}</dd>
      </dl>
    </section>
    <h2>Steps</h2>
    ${table([{ label: 'Step' }, { label: 'Status' }, { label: 'Attempts', num: true }, { label: 'Duration', num: true }, { label: 'Error', wrap: true }], steps, 'not started')}
    ${results(file, thumbnailUrl)}
    <h2>Notifications about this file</h2>
    ${table([{ label: 'Event' }, { label: 'Channel' }, { label: 'Status' }, { label: 'When' }], notes, 'none')}`;
  return { title: `File ${file.filename}`, nav: session ? 'files' : null, head, live };
}
