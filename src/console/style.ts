/** The console's one stylesheet, served at /console/assets/console.css (kept in a module so tsc's build carries it). */
export const CONSOLE_CSS = `
/* nightshift console: one small stylesheet, no framework. Readable from 375 px to desktop. */
:root {
  --fg: #1d232b;
  --muted: #5b6673;
  --bg: #f6f7f9;
  --card: #fff;
  --line: #d9dee4;
  --accent: #2754c5;
  --ok: #1f7a3a;
  --bad: #b3261e;
  --warn: #8a5a00;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  color: var(--fg);
  background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; }
.skip { position: absolute; left: -9999px; top: 0; background: #fff; padding: .5rem; z-index: 1; }
.skip:focus { left: .5rem; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #f2b705; outline-offset: 2px; }
.top { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1rem; padding: .5rem 1rem; background: #1d232b; color: #fff; }
.top a { color: #fff; }
.brand { font-weight: 700; text-decoration: none; letter-spacing: .02em; }
.top nav { display: flex; flex-wrap: wrap; align-items: center; gap: .25rem 1rem; flex: 1; }
.top ul { display: flex; flex-wrap: wrap; gap: .25rem .9rem; margin: 0; padding: 0; list-style: none; flex: 1; }
.top nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
.signout button { background: transparent; color: #fff; border-color: #8892a0; }
main { padding: 1rem; max-width: 1280px; margin: 0 auto; }
h1 { font-size: 1.4rem; margin: .25rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.25rem 0 .5rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 1rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; min-width: 0; margin-bottom: 1rem; }
.grid > .card { margin-bottom: 0; }
.grid { margin-bottom: 1rem; }
.scroll + .grid, .scroll + .card { margin-top: 1rem; }
.card h2 { margin-top: 0; }
.counts { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; margin: 0; }
.counts div { display: flex; flex-direction: column; }
.counts dt { color: var(--muted); font-size: .85rem; }
.counts dd { margin: 0; font-size: 1.5rem; font-weight: 600; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .85rem; color: var(--muted); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.wrap { overflow-wrap: break-word; min-width: 8rem; }
code { white-space: nowrap; }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .8rem; border: 1px solid currentColor; white-space: nowrap; }
.badge-completed, .badge-succeeded, .badge-sent, .badge-alive, .badge-ok, .badge-active { color: var(--ok); }
.badge-failed, .badge-dead, .badge-stale, .badge-error { color: var(--bad); }
.badge-processing, .badge-running, .badge-queued, .badge-pending, .badge-uploaded { color: var(--accent); }
.badge-paused, .badge-skipped, .badge-off { color: var(--warn); }
form.inline { display: inline; margin: 0; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem .75rem; align-items: flex-end; margin-bottom: 1rem; }
form.filters label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); gap: .15rem; }
input, select, button { font: inherit; padding: .3rem .55rem; border: 1px solid #9aa4b1; border-radius: 4px; background: #fff; color: var(--fg); min-height: 2rem; }
button { cursor: pointer; background: #eef2fb; border-color: var(--accent); color: var(--accent); }
button.danger { border-color: var(--bad); color: var(--bad); background: #fdf1f0; }
.notice { background: #e8f3ec; border: 1px solid #a9d3b6; padding: .5rem .75rem; border-radius: 4px; }
.error-box { background: #fdf1f0; border: 1px solid #e8b4b0; padding: .5rem .75rem; border-radius: 4px; overflow-wrap: anywhere; }
.actions { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; margin: .5rem 0 1rem; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f0f2f5; padding: .5rem; border-radius: 4px; max-height: 24rem; overflow: auto; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.thumb { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
.chart { width: 100%; max-width: 640px; height: auto; display: block; }
.legend { display: flex; gap: 1rem; font-size: .85rem; color: var(--muted); }
.swatch-uploads { background: #2754c5; }
.swatch-failures { background: #b3261e; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; vertical-align: -1px; margin-right: .25rem; }
progress { width: 100%; max-width: 24rem; height: 1rem; }
.signin { max-width: 22rem; margin: 3rem auto; }
.signin label { display: flex; flex-direction: column; gap: .25rem; margin-bottom: .75rem; }
.pager { margin-top: .75rem; }
@media (max-width: 600px) {
  main { padding: .75rem .5rem; }
  .top nav { flex-basis: 100%; }
  table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; width: 100%; }
  table.stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
  table.stack tr { border-bottom: 1px solid var(--line); padding: .35rem 0; }
  table.stack td { position: relative; border: none; padding: .15rem .5rem .15rem 7.5rem; text-align: left; min-width: 0; min-height: 1.8rem; overflow-wrap: break-word; }
  table.stack td::before { content: attr(data-label); position: absolute; left: .5rem; width: 6.5rem; color: var(--muted); font-size: .85rem; padding-top: .1rem; }
  table.stack td.empty { padding-left: .5rem; }
  table.stack td.empty::before { content: none; }
  .counts dd { font-size: 1.2rem; }
  th, td { padding: .3rem .35rem; }
  .hide-narrow { display: none; }
}
`;
