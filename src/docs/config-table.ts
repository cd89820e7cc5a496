import type { ConfigKeyDoc } from '../config/section.js';

/**
 * README tables generated from definitions. A generated block sits between two markers,
 * `<!-- <name>:start -->` and `<!-- <name>:end -->`; `npm run docs` rewrites every block
 * and a test fails when the README is not current.
 */

/** A row of a configuration table: a documented variable, or a heading row that groups the next ones. */
export type ConfigTableRow = ConfigKeyDoc | { readonly heading: string; readonly note?: string | undefined };

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The markdown table `| variable | default | meaning |` of these rows. */
export function renderConfigTable(rows: readonly ConfigTableRow[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`.replace(/ {2,}\|/g, ' |');
  const lines = [line(['variable', 'default', 'meaning']), '|---|---|---|'];
  for (const row of rows) {
    if ('heading' in row) lines.push(line([`**${cell(row.heading)}**`, '', cell(row.note ?? '')]));
    else lines.push(line([`\`${row.key}\``, row.default === undefined || row.default === '' ? '' : `\`${cell(row.default)}\``, cell(row.description)]));
  }
  return lines.join('\n');
}

const marker = (name: string, end: 'start' | 'end') => `<!-- ${name}:${end} -->`;

/** Replace the content of the block `name` in a document; throws when its markers are missing. */
export function replaceBlock(document: string, name: string, content: string): string {
  const start = document.indexOf(marker(name, 'start'));
  const end = document.indexOf(marker(name, 'end'));
  if (start === -1 || end === -1 || end < start) throw new Error(`README has no ${marker(name, 'start')} … ${marker(name, 'end')} block`);
  const head = document.slice(0, start + marker(name, 'start').length);
  return `${head}\n${content.trim()}\n${document.slice(end)}`;
}
