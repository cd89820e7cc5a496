import { listSchedules } from '../schedules/list.js';
import type { ConsoleDeps } from './deps.js';
import { badge, html, when } from './html.js';
import { action, type PageView } from './layout.js';
import type { ConsoleSession } from './session.js';

/** Every configured schedule: cron, timezone, next and last run with its counts; pause, resume, run now. */
export async function schedulesPage(deps: ConsoleDeps, session: ConsoleSession): Promise<PageView> {
  const [list, pauses] = await Promise.all([listSchedules(deps.agenda, deps.store.runs, deps.config.schedules), deps.ops.controls.pauses()]);
  const rows = list.map((s) => {
    const paused = pauses.schedules.has(s.name as never);
    const state = s.schedule === null ? 'off' : paused ? 'paused' : 'active';
    const counts = s.lastRun?.counts ? Object.entries(s.lastRun.counts).map(([k, v]) => `${k} ${v}`).join(', ') : '';
    const url = `/schedules/${encodeURIComponent(s.name)}`;
    return html`<tr data-schedule="${s.name}"><td>${s.name}</td><td><code>${s.schedule === null ? 'off' : String(s.schedule)}</code></td><td class="hide-narrow">${s.timezone}</td><td>${badge(state)}</td>
<td>${when(s.nextRunAt)}</td><td>${s.lastRun ? html`${badge(s.lastRun.status)} ${when(s.lastRun.startedAt)}${counts ? html`<br><span class="muted">${counts}</span>` : ''}${s.lastRun.error ? html`<br><span class="muted">${s.lastRun.error}</span>` : ''}` : html`<span class="muted">never</span>`}</td>
<td>${paused ? action(session, `${url}/resume`, 'Resume', { title: `Resume schedule ${s.name}` }) : action(session, `${url}/pause`, 'Pause', { title: `Pause schedule ${s.name}` })} ${action(session, `${url}/run`, 'Run now', { title: `Run ${s.name} now` })}</td></tr>`;
  });
  const live = html`<div class="scroll"><table><thead><tr><th>Job</th><th>Schedule</th><th class="hide-narrow">Timezone</th><th>State</th><th>Next run</th><th>Last run</th><th>Actions</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="7" class="muted">no schedules configured</td></tr>`}</tbody></table></div>`;
  return { title: 'Schedules', nav: 'schedules', live };
}
