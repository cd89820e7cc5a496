import { listSchedules } from '../schedules/list.js';
import type { ConsoleDeps } from './deps.js';
import { badge, html, table, when } from './html.js';
import { action, type PageView } from './layout.js';
import type { ConsoleSession } from './session.js';

/** Every configured schedule: cron, timezone, next and last run with its counts; pause, resume, run now. */
export async function schedulesPage(deps: ConsoleDeps, session: ConsoleSession): Promise<PageView> {
  const [list, pauses] = await Promise.all([listSchedules(deps.agenda, deps.store.runs, deps.config.schedules), deps.ops.controls.pauses()]);
  const rows = list.map((s) => {
    const paused = pauses.schedules.has(s.name as never);
    const state = s.schedule === null ? 'off' : paused ? 'paused' : 'active';
    const counts = s.lastRun?.counts
      ? Object.entries(s.lastRun.counts)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')
      : '';
    const url = `/schedules/${encodeURIComponent(s.name)}`;
    const last = s.lastRun
      ? html`${badge(s.lastRun.status)}
        ${when(s.lastRun.startedAt)}${counts ? html`<br /><span class="muted">${counts}</span>` : ''}${s.lastRun.error ? html`<br /><span class="muted">${s.lastRun.error}</span>` : ''}`
      : html`<span class="muted">never</span>`;
    const toggle = paused
      ? action(session, `${url}/resume`, 'Resume', { title: `Resume schedule ${s.name}` })
      : action(session, `${url}/pause`, 'Pause', { title: `Pause schedule ${s.name}` });
    return {
      cells: [
        s.name,
        html`<code>${s.schedule === null ? 'off' : String(s.schedule)}</code>`,
        s.timezone,
        badge(state),
        when(s.nextRunAt),
        last,
        html`${toggle} ${action(session, `${url}/run`, 'Run now', { title: `Run ${s.name} now` })}`,
      ],
      data: { schedule: s.name },
    };
  });
  const columns = [
    { label: 'Job' },
    { label: 'Schedule' },
    { label: 'Timezone' },
    { label: 'State' },
    { label: 'Next run' },
    { label: 'Last run' },
    { label: 'Actions' },
  ];
  const live = table(columns, rows, 'no schedules configured');
  return { title: 'Schedules', nav: 'schedules', live };
}
