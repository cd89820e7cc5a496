import { z } from 'zod';

import { presentNotification } from '../http/notifications.js';
import type { NotificationRecord } from '../store/outbox-types.js';
import type { ConsoleDeps } from './deps.js';
import { badge, html, table, when } from './html.js';
import { action, type PageView } from './layout.js';
import type { ConsoleSession } from './session.js';

const blankIsAbsent = (v: unknown) => (v === '' ? undefined : v);
const STATUSES = ['queued', 'sent', 'failed', 'dead'] as const;
export const NotificationsQuery = z.object({
  status: z.preprocess(blankIsAbsent, z.enum(STATUSES).optional()),
  channel: z.preprocess(blankIsAbsent, z.string().max(64).optional()),
  event: z.preprocess(blankIsAbsent, z.string().max(64).optional()),
  owner: z.preprocess(blankIsAbsent, z.string().max(128).optional()),
  cursor: z.preprocess(blankIsAbsent, z.string().max(512).optional()),
});
type Query = z.infer<typeof NotificationsQuery>;

function filters(q: Query, channels: readonly string[]) {
  const opt = (name: string, selected: string | undefined) => html`<option value="${name}" ${selected === name ? html` selected` : ''}>${name}</option>`;
  return html`<form class="filters" method="get" action="/notifications" role="search">
    <label
      >Status<select name="status">
        <option value="">any</option>
        ${STATUSES.map((s) => opt(s, q.status))}
      </select></label
    >
    <label
      >Channel<select name="channel">
        <option value="">any</option>
        ${channels.map((c) => opt(c, q.channel))}
      </select></label
    >
    <label>Event<input name="event" value="${q.event ?? ''}" /></label>
    <label>Owner<input name="owner" value="${q.owner ?? ''}" autocomplete="off" /></label>
    <button type="submit">Filter</button> <a href="/notifications">clear</a>
  </form>`;
}

/** The delivery log, newest first, with "retry all dead" for what the filters select. */
export async function notificationsPage(deps: ConsoleDeps, session: ConsoleSession, q: Query): Promise<PageView> {
  const page = await deps.store.outbox.list({ ...q, limit: 50 });
  const rows = page.items.map((n) => ({
    cells: [
      html`<a href="/notifications/${n.id}">${n.event}</a>`,
      n.channel,
      n.recipient,
      badge(n.status),
      n.attempts,
      when(n.updatedAt),
      n.status === 'dead' ? action(session, `/notifications/${n.id}/retry`, 'Retry', { title: `Retry ${n.event} to ${n.recipient}` }) : '',
    ],
  }));
  const columns = [
    { label: 'Event' },
    { label: 'Channel' },
    { label: 'Recipient', wrap: true },
    { label: 'Status' },
    { label: 'Attempts', num: true },
    { label: 'Updated' },
    { label: 'Action' },
  ];
  const dead = { event: q.event ?? '', channel: q.channel ?? '', owner: q.owner ?? '' };
  const head = html`${filters(
      q,
      deps.notifiers.map((d) => d.name),
    )}
    <div class="actions">${action(session, '/notifications/retry-dead', 'Retry all dead (these filters)', { hidden: dead })}</div>`;
  const next = page.nextCursor
    ? new URLSearchParams(Object.entries({ ...q, cursor: page.nextCursor }).filter((e): e is [string, string] => typeof e[1] === 'string'))
    : null;
  const live = html`${table(columns, rows, 'no notifications match')}
  ${next ? html`<p class="pager"><a href="/notifications?${next.toString()}">Older →</a></p>` : ''}`;
  return { title: 'Notifications', nav: 'notifications', head, live };
}

/** One notification: the message as rendered and what the provider answered. */
export function notificationPage(n: NotificationRecord, session: ConsoleSession): PageView {
  const shown = presentNotification(n);
  const head = html`<div class="actions">
    ${n.status === 'dead' ? action(session, `/notifications/${n.id}/retry`, 'Retry this notification') : ''}<a href="/notifications">← delivery log</a>
  </div>`;
  const live = html`<section class="card">
      <h2>${n.event} ${badge(n.status)}</h2>
      <dl class="facts">
        <dt>channel</dt>
        <dd>${n.channel}</dd>
        <dt>recipient</dt>
        <dd>${n.recipient}</dd>
        <dt>owner</dt>
        <dd>${n.owner ?? '–'}</dd>
        <dt>attempts</dt>
        <dd>${n.attempts}</dd>
        <dt>created</dt>
        <dd>${when(n.createdAt)}</dd>
        <dt>not before</dt>
        <dd>${when(n.notBefore)}</dd>
        <dt>sent</dt>
        <dd>${when(n.sentAt)}</dd>
        <dt>last error</dt>
        <dd>${n.lastError ?? '–'}</dd>
        <dt>provider's answer</dt>
        <dd>${n.response ?? '–'}</dd>
      </dl>
    </section>
    <h2>Message</h2>
    <pre>${JSON.stringify(shown.message, null, 2)}</pre>`;
  return { title: `Notification ${n.event}`, nav: 'notifications', head, live };
}
