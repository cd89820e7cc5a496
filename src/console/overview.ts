import { FILE_STATUSES } from '../store/types.js';
import { hourlyChart } from './chart.js';
import type { ConsoleDeps } from './deps.js';
import { ago, badge, html, table } from './html.js';
import type { PageView } from './layout.js';

const HOUR_MS = 3_600_000;

/** Files by status, the 24-hour chart, queues per job, workers, pauses. */
export async function overviewPage(deps: ConsoleDeps): Promise<PageView> {
  const now = new Date();
  const from = new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS - 23 * HOUR_MS);
  const to = new Date(from.getTime() + 24 * HOUR_MS);
  const [stats, summary, workers, pauses] = await Promise.all([
    deps.ops.stats(),
    deps.store.reports.summarize(null, from, to),
    deps.store.workers.list(now),
    deps.ops.controls.pauses(),
  ]);
  const statuses = FILE_STATUSES.map(
    (s) =>
      html`<div>
        <dt><a href="/files?status=${s}">${s}</a></dt>
        <dd data-status="${s}">${stats.files[s]}</dd>
      </div>`,
  );
  const jobs = Object.entries(stats.jobs).map(([name, j]) => ({
    cells: [html`${name}${pauses.jobs.has(name as never) ? html` ${badge('paused')}` : ''}`, j.queued, j.running, j.scheduled, j.failed],
    data: { job: name },
  }));
  const workerRows = workers.map((w) => ({
    cells: [html`${w.host}:${w.pid} <span class="muted">${w.role}</span>`, badge(w.state), ago(w.heartbeatAt, now.getTime()), w.running.length],
  }));
  const paused = [
    ...(pauses.pipeline ? [html`<li>the whole pipeline</li>`] : []),
    ...[...pauses.jobs].sort().map((j) => html`<li>job <strong>${j}</strong></li>`),
    ...[...pauses.schedules]
      .filter((s) => !pauses.jobs.has(s))
      .sort()
      .map((s) => html`<li>schedule <strong>${s}</strong></li>`),
  ];
  const live = html`<div class="grid">
      <section class="card" aria-labelledby="files-h">
        <h2 id="files-h">Files by status</h2>
        <dl class="counts">${statuses}</dl>
      </section>
      <section class="card" aria-labelledby="workers-h">
        <h2 id="workers-h">Workers</h2>
        <p>${stats.workers.alive} alive, ${stats.workers.stale} stale</p>
        ${table([{ label: 'Process', wrap: true }, { label: 'State' }, { label: 'Last beat' }, { label: 'Running', num: true }], workerRows, 'no worker has beaten yet')}
      </section>
      <section class="card" aria-labelledby="paused-h">
        <h2 id="paused-h">Paused</h2>
        ${
          paused.length
            ? html`<ul>
                ${paused}
              </ul>`
            : html`<p class="muted">nothing is paused</p>`
        }
      </section>
    </div>
    <section class="card" aria-labelledby="chart-h">
      <h2 id="chart-h">Uploads and failures per hour, last 24 h</h2>
      ${hourlyChart(summary.hourly.slice(-24))}
    </section>
    <section class="card" aria-labelledby="jobs-h">
      <h2 id="jobs-h">Queues</h2>
      ${table([{ label: 'Job' }, { label: 'Queued', num: true }, { label: 'Running', num: true }, { label: 'Scheduled', num: true }, { label: 'Failed', num: true }], jobs, 'no jobs')}
    </section>`;
  return { title: 'Overview', nav: 'overview', live };
}
