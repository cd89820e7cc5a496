import { escapeHtml } from '../format.js';

/** Markup that is already safe: what `html` returns, and the only thing it inserts unescaped. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Part = Html | string | number | boolean | null | undefined | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false || part === true) return '';
  if (part instanceof Html) return part.value;
  if (Array.isArray(part)) return (part as readonly Part[]).map(render).join('');
  return escapeHtml(String(part));
}

/** A template tag: every interpolated value is escaped unless it is Html; arrays are joined; null, undefined and booleans render nothing. */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new Html(out);
}

/** "3 min ago", "in 2 h": how long from now, for people. */
export function ago(at: Date | null, now = Date.now()): string {
  if (!at) return '–';
  const s = Math.round((now - at.getTime()) / 1000);
  const abs = Math.abs(s);
  const text =
    abs < 60 ? `${abs} s` : abs < 3600 ? `${Math.round(abs / 60)} min` : abs < 86_400 ? `${Math.round(abs / 3600)} h` : `${Math.round(abs / 86_400)} d`;
  return s >= 0 ? `${text} ago` : `in ${text}`;
}

/** A time as UTC text with its relative age in a tooltip-free form: "2026-12-02 00:41:07Z (3 min ago)". */
export function when(at: Date | null): Html {
  if (!at) return html`–`;
  return html`<time datetime="${at.toISOString()}">${at.toISOString().slice(0, 19).replace('T', ' ')}Z</time> <span class="muted">(${ago(at)})</span>`;
}

/** A coloured status word. */
export function badge(status: string): Html {
  return html`<span class="badge badge-${status}">${status}</span>`;
}

/** A table column: its header, and whether it holds numbers (right-aligned) or long text (wraps). */
export interface Column {
  readonly label: string;
  readonly num?: boolean;
  readonly wrap?: boolean;
}

/** A table row: its cells in column order and optional data attributes (`{ schedule: 'x' }` → `data-schedule="x"`). */
export interface Row {
  readonly cells: readonly Part[];
  readonly data?: Readonly<Record<string, string>>;
}

/**
 * A table that becomes one block per row on a phone (each cell labelled with its column by
 * `data-label`), so nothing needs scrolling sideways at 375 px.
 */
export function table(columns: readonly Column[], rows: readonly Row[], empty: string): Html {
  const cls = (c: Column) => [c.num ? 'num' : '', c.wrap ? 'wrap' : ''].filter(Boolean).join(' ');
  const head = columns.map((c) => html`<th scope="col" ${cls(c) ? html` class="${cls(c)}"` : ''}>${c.label}</th>`);
  const body = rows.map((r) => {
    const data = Object.entries(r.data ?? {}).map(([k, v]) => html` data-${k}="${v}"`);
    const cells = r.cells.map((cell, i) => {
      const c = columns[i] ?? { label: '' };
      return html`<td data-label="${c.label}" ${cls(c) ? html` class="${cls(c)}"` : ''}>${cell}</td>`;
    });
    return html`<tr${data}>${cells}</tr>`;
  });
  return html`<div class="scroll">
    <table class="stack">
      <thead>
        <tr>
          ${head}
        </tr>
      </thead>
      <tbody>
        ${
          body.length
            ? body
            : html`<tr>
                <td class="muted empty" colspan="${columns.length}">${empty}</td>
              </tr>`
        }
      </tbody>
    </table>
  </div>`;
}
