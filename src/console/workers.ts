import type { ConsoleDeps } from './deps.js';
import { ago, badge, html } from './html.js';
import { action, type PageView } from './layout.js';
import type { ConsoleSession } from './session.js';

/** Workers alive and stale with what each runs now; every job type with pause/resume. */
export async function workersPage(deps: ConsoleDeps, session: ConsoleSession): Promise<PageView> {
  const now = new Date();
  const [workers, stats, pauses] = await Promise.all([deps.store.workers.list(now), deps.ops.stats(), deps.ops.controls.pauses()]);
  const rows = workers.map((w) => {
    const running = w.running.map(
      (r) => html`<li>${r.job}${r.fileId ? html` <a href="/files/${r.fileId}">file</a>` : ''} <span class="muted">since ${ago(r.startedAt, now.getTime())}, attempt ${r.attempt}</span></li>`,
    );
    return html`<tr><td class="wrap">${w.host}:${w.pid}</td><td>${w.role}</td><td>${badge(w.state)}</td><td>${ago(w.heartbeatAt, now.getTime())}</td><td class="hide-narrow">${w.version}</td>
<td>${running.length ? html`<ul>${running}</ul>` : html`<span class="muted">idle</span>`}</td></tr>`;
  });
  const jobs = Object.entries(stats.jobs).map(([name, j]) => {
    const paused = pauses.jobs.has(name as never);
    const url = `/jobs/${encodeURIComponent(name)}`;
    return html`<tr data-job="${name}"><td>${name}</td><td>${badge(paused ? 'paused' : 'active')}</td><td class="num">${j.queued}</td><td class="num">${j.running}</td>
<td>${paused ? action(session, `${url}/resume`, 'Resume', { title: `Resume job ${name}` }) : action(session, `${url}/pause`, 'Pause', { title: `Pause job ${name}` })}</td></tr>`;
  });
  const live = html`<h2>Processes</h2><div class="scroll"><table><thead><tr><th>Process</th><th>Role</th><th>State</th><th>Last beat</th><th class="hide-narrow">Version</th><th>Running now</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="6" class="muted">no worker has beaten yet</td></tr>`}</tbody></table></div>
<h2>Job types</h2>${pauses.pipeline ? html`<p class="notice">The whole pipeline is paused (nightshift resume pipeline).</p>` : ''}<div class="scroll"><table><thead><tr><th>Job</th><th>State</th><th class="num">Queued</th><th class="num">Running</th><th>Action</th></tr></thead><tbody>${jobs}</tbody></table></div>`;
  return { title: 'Workers', nav: 'workers', live };
}
