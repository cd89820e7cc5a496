import { createHash } from 'node:crypto';

import type { FastifyReply, FastifyRequest } from 'fastify';

import { type Html, html } from './html.js';
import type { ConsoleSession } from './session.js';

export const ASSETS = '/console/assets';
const FLASH_COOKIE = 'nightshift_flash';

export type NavKey = 'overview' | 'files' | 'failures' | 'notifications' | 'schedules' | 'workers';
const NAV: ReadonlyArray<readonly [NavKey, string, string]> = [
  ['overview', '/', 'Overview'],
  ['files', '/files', 'Files'],
  ['failures', '/failures', 'Failures'],
  ['notifications', '/notifications', 'Notifications'],
  ['schedules', '/schedules', 'Schedules'],
  ['workers', '/workers', 'Workers'],
];

/** One console page: a title, what stays put (filters) and the part that refreshes every 2 s. */
export interface PageView {
  readonly title: string;
  readonly nav: NavKey | null;
  /** Above the live part, not refreshed (filter forms keep what is typed in them). */
  readonly head?: Html;
  /** Refreshed every 2 s from the same URL (htmx asks with HX-Request and gets only this part). */
  readonly live: Html;
}

/** A POST form of one button, carrying the session's CSRF token. */
export function action(
  session: ConsoleSession,
  url: string,
  label: string,
  options: { hidden?: Record<string, string>; danger?: boolean; title?: string } = {},
): Html {
  const hidden = Object.entries(options.hidden ?? {}).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}" />`);
  // A stable id: htmx gives focus back to the element with the same id after each 2-second swap.
  const id = `act-${createHash('sha1')
    .update(`${url}\u0000${JSON.stringify(options.hidden ?? {})}`)
    .digest('hex')
    .slice(0, 12)}`;
  return html`<form method="post" action="${url}" class="inline">
    <input type="hidden" name="_csrf" value="${session.csrf}" />${hidden}<button
      type="submit"
      id="${id}"
      ${options.danger ? html` class="danger"` : ''}${options.title ? html` aria-label="${options.title}"` : ''}
    >
      ${label}
    </button>
  </form>`;
}

/** Remember a message for the next page (after a POST's redirect). */
export function flash(reply: FastifyReply, message: string): void {
  void reply.setCookie(FLASH_COOKIE, encodeURIComponent(message.slice(0, 300)), { path: '/', httpOnly: true, sameSite: 'strict', maxAge: 60 });
}

function readFlash(raw: string | undefined): string | undefined {
  try {
    return raw ? decodeURIComponent(raw) : undefined;
  } catch {
    return undefined;
  }
}

/** Answer a POST: remember its outcome and go back where the form was (303, so the reload is a GET). */
export function done(request: FastifyRequest, reply: FastifyReply, message: string, fallback = '/'): FastifyReply {
  flash(reply, message);
  const back = request.headers.referer;
  let to = fallback;
  if (back) {
    try {
      const u = new URL(back);
      if (u.host === request.headers.host) to = `${u.pathname}${u.search}`;
    } catch {
      // an unparsable Referer: go to the fallback
    }
  }
  return reply.code(303).redirect(to);
}

export function liveSection(view: PageView, url: string): Html {
  return html`<section id="live" hx-get="${url}" hx-trigger="every 2s" hx-swap="outerHTML">${view.live}</section>`;
}

/** The whole page, or only its live part when htmx asks for it. */
export function sendPage(request: FastifyRequest, reply: FastifyReply, view: PageView, session: ConsoleSession | null): FastifyReply {
  const url = request.url;
  void reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-store');
  if (request.headers['hx-request'] === 'true') return reply.send(liveSection(view, url).value);
  const message = readFlash(request.cookies[FLASH_COOKIE]);
  if (message) void reply.clearCookie(FLASH_COOKIE, { path: '/' });
  return reply.send(
    shell(view.title, session, view.nav, html`${message ? html`<p class="notice" role="status">${message}</p>` : ''}${view.head}${liveSection(view, url)}`)
      .value,
  );
}

/** The page frame: navigation, the Agendash link and sign-out (none of it on a read-only signed link). */
export function shell(title: string, session: ConsoleSession | null, nav: NavKey | null, main: Html): Html {
  const links = NAV.map(([key, href, label]) => html`<li><a href="${href}" ${key === nav ? html` aria-current="page"` : ''}>${label}</a></li>`);
  const menu = session
    ? html`<nav aria-label="Console">
        <ul>
          ${links}
          <li><a href="/dash/">Agendash (raw jobs)</a></li>
        </ul>
        ${session.signedIn ? html`<form method="post" action="/sign-out" class="inline signout"><input type="hidden" name="_csrf" value="${session.csrf}" /><button type="submit">Sign out</button></form>` : ''}
      </nav>`
    : '';
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · nightshift</title>
        <meta name="htmx-config" content='{"includeIndicatorStyles":false}' />
        <link rel="stylesheet" href="${ASSETS}/console.css" />
        <script src="${ASSETS}/htmx.min.js" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top"><a class="brand" href="/">nightshift</a>${menu}</header>
        <main id="main">
          <h1>${title}</h1>
          ${main}
        </main>
      </body>
    </html>`;
}
