import { FILE_STATUSES } from '../store/types.js';
import { hourlyChart } from './chart.js';
import type { ConsoleDeps } from './deps.js';
import { ago, badge, html } from './html.js';
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
    (s) => html`<div><dt><a href="/files?status=${s}">${s}</a></dt><dd data-status="${s}">${stats.files[s]}</dd></div>`,
  );
  const jobs = Object.entries(stats.jobs).map(
    ([name, j]) =>
      html`<tr><td>${name}${pauses.jobs.has(name as never) ? html` ${badge('paused')}` : ''}</td><td class="num">${j.queued}</td><td class="num">${j.running}</td><td class="num hide-narrow">${j.scheduled}</td><td class="num">${j.failed}</td></tr>`,
  );
  const workerRows = workers.map(
    (w) =>
      html`<tr><td class="wrap">${w.host}:${w.pid} <span class="muted">${w.role}</span></td><td>${badge(w.state)}</td><td>${ago(w.heartbeatAt, now.getTime())}</td><td class="num">${w.running.length}</td></tr>`,
  );
  const paused = [
    ...(pauses.pipeline ? [html`<li>the whole pipeline</li>`] : []),
    ...[...pauses.jobs].sort().map((j) => html`<li>job <strong>${j}</strong></li>`),
    ...[...pauses.schedules].filter((s) => !pauses.jobs.has(s)).sort().map((s) => html`<li>schedule <strong>${s}</strong></li>`),
  ];
  const live = html`<div class="grid">
<section class="card" aria-labelledby="files-h"><h2 id="files-h">Files by status</h2><dl class="counts">${statuses}</dl></section>
<section class="card" aria-labelledby="workers-h"><h2 id="workers-h">Workers</h2><p>${stats.workers.alive} alive, ${stats.workers.stale} stale</p>
<div class="scroll"><table><thead><tr><th>Process</th><th>State</th><th>Last beat</th><th class="num">Running</th></tr></thead><tbody>${workerRows.length ? workerRows : html`<tr><td colspan="4" class="muted">no worker has beaten yet</td></tr>`}</tbody></table></div></section>
<section class="card" aria-labelledby="paused-h"><h2 id="paused-h">Paused</h2>${paused.length ? html`<ul>${paused}</ul>` : html`<p class="muted">nothing is paused</p>`}</section>
</div>
<section class="card" aria-labelledby="chart-h"><h2 id="chart-h">Uploads and failures per hour, last 24 h</h2>${hourlyChart(summary.hourly.slice(-24))}</section>
<section class="card" aria-labelledby="jobs-h"><h2 id="jobs-h">Queues</h2><div class="scroll"><table><thead><tr><th>Job</th><th class="num">Queued</th><th class="num">Running</th><th class="num hide-narrow">Scheduled</th><th class="num">Failed</th></tr></thead><tbody>${jobs}</tbody></table></div></section>`;
  return { title: 'Overview', nav: 'overview', live };
}
