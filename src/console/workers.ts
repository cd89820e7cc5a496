import type { ConsoleDeps } from './deps.js';
import { ago, badge, html, table } from './html.js';
import { action, type PageView } from './layout.js';
import type { ConsoleSession } from './session.js';

/** Workers alive and stale with what each runs now; every job type with pause/resume. */
export async function workersPage(deps: ConsoleDeps, session: ConsoleSession): Promise<PageView> {
  const now = new Date();
  const [workers, stats, pauses] = await Promise.all([deps.store.workers.list(now), deps.ops.stats(), deps.ops.controls.pauses()]);
  const rows = workers.map((w) => {
    const running = w.running.map(
      (r) =>
        html`<li>
          ${r.job}${r.fileId ? html` <a href="/files/${r.fileId}">file</a>` : ''}
          <span class="muted">since ${ago(r.startedAt, now.getTime())}, attempt ${r.attempt}</span>
        </li>`,
    );
    return {
      cells: [
        `${w.host}:${w.pid}`,
        w.role,
        badge(w.state),
        ago(w.heartbeatAt, now.getTime()),
        w.version,
        running.length
          ? html`<ul>
              ${running}
            </ul>`
          : html`<span class="muted">idle</span>`,
      ],
    };
  });
  const jobs = Object.entries(stats.jobs).map(([name, j]) => {
    const paused = pauses.jobs.has(name as never);
    const url = `/jobs/${encodeURIComponent(name)}`;
    const toggle = paused
      ? action(session, `${url}/resume`, 'Resume', { title: `Resume job ${name}` })
      : action(session, `${url}/pause`, 'Pause', { title: `Pause job ${name}` });
    return { cells: [name, badge(paused ? 'paused' : 'active'), j.queued, j.running, toggle], data: { job: name } };
  });
  const processes = table(
    [{ label: 'Process', wrap: true }, { label: 'Role' }, { label: 'State' }, { label: 'Last beat' }, { label: 'Version' }, { label: 'Running now' }],
    rows,
    'no worker has beaten yet',
  );
  const types = table(
    [{ label: 'Job' }, { label: 'State' }, { label: 'Queued', num: true }, { label: 'Running', num: true }, { label: 'Action' }],
    jobs,
    'no jobs',
  );
  const live = html`<h2>Processes</h2>
    ${processes}
    <h2>Job types</h2>
    ${pauses.pipeline ? html`<p class="notice">The whole pipeline is paused (nightshift resume pipeline).</p>` : ''}${types}`;
  return { title: 'Workers', nav: 'workers', live };
}
