import { escapeHtml } from '../../src/format.js';
import type { Message } from '../../src/notify/notifier.js';

/**
 * The email layout of a message: a title, the text (or the message's own HTML fragment), a
 * table of facts, a list of items with optional thumbnails, the message image, a link, and the
 * attachments that carry a `cid` shown inline. Plain functions, so tsc emits them like any
 * other module and nothing has to be copied next to the build.
 */

/**
 * A URL that may go into an href/src: only http(s) (and cid: for inline parts). Anything else
 * (javascript:, data:, a relative path) is dropped rather than escaped, since escaping does not
 * make a javascript: link safe.
 */
export function safeUrl(value: string | undefined, allowCid = false): string | undefined {
  if (value === undefined) return undefined;
  if (allowCid && /^cid:[^\s"'<>]+$/.test(value)) return value;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

const STYLE = {
  body: 'margin:0;padding:24px;background:#f4f5f7;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1f2328',
  card: 'max-width:600px;margin:0 auto;background:#ffffff;border-radius:8px;padding:24px',
  h1: 'font-size:20px;margin:0 0 16px 0',
  p: 'font-size:14px;line-height:1.5;margin:0 0 12px 0',
  table: 'border-collapse:collapse;width:100%;margin:0 0 16px 0;font-size:14px',
  th: 'text-align:left;padding:6px 8px;border-bottom:1px solid #e5e7eb;color:#57606a;font-weight:normal;width:40%',
  td: 'text-align:left;padding:6px 8px;border-bottom:1px solid #e5e7eb;font-weight:bold',
  item: 'padding:8px 0;border-bottom:1px solid #e5e7eb;font-size:14px',
  thumb: 'width:64px;height:64px;object-fit:cover;border-radius:4px;vertical-align:middle;margin-right:12px',
  img: 'max-width:100%;border-radius:4px;margin:0 0 16px 0',
  button: 'display:inline-block;background:#0969da;color:#ffffff;text-decoration:none;padding:10px 16px;border-radius:6px;font-size:14px',
  muted: 'color:#57606a',
} as const;

function paragraphs(text: string): string {
  return text
    .split(/\n{2,}/)
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => `<p style="${STYLE.p}">${escapeHtml(p).replace(/\n/g, '<br>')}</p>`)
    .join('\n');
}

function factsTable(message: Message): string {
  if (!message.facts?.length) return '';
  const rows = message.facts
    .map((f) => `<tr><th style="${STYLE.th}">${escapeHtml(f.label)}</th><td style="${STYLE.td}">${escapeHtml(f.value)}</td></tr>`)
    .join('\n');
  return `<table role="presentation" style="${STYLE.table}">\n${rows}\n</table>`;
}

function itemList(message: Message): string {
  if (!message.items?.length) return '';
  const rows = message.items.map((item) => {
    const image = safeUrl(item.imageUrl, true);
    const link = safeUrl(item.url);
    const title = link ? `<a href="${escapeHtml(link)}">${escapeHtml(item.title)}</a>` : escapeHtml(item.title);
    const status = item.status ? ` <span style="${STYLE.muted}">(${escapeHtml(item.status)})</span>` : '';
    const detail = item.detail ? `<br><span style="${STYLE.muted}">${escapeHtml(item.detail)}</span>` : '';
    const thumb = image ? `<img src="${escapeHtml(image)}" alt="" width="64" height="64" style="${STYLE.thumb}">` : '';
    return `<div style="${STYLE.item}">${thumb}${title}${status}${detail}</div>`;
  });
  return `<div style="margin:0 0 16px 0">\n${rows.join('\n')}\n</div>`;
}

function inlineImages(message: Message): string {
  const images = (message.attachments ?? []).filter((a) => a.cid !== undefined && a.contentType.startsWith('image/'));
  return images.map((a) => `<img src="cid:${escapeHtml(a.cid ?? '')}" alt="${escapeHtml(a.filename)}" style="${STYLE.img}">`).join('\n');
}

/**
 * The HTML body. `message.html`, when present, is a fragment the notification templates wrote
 * (trusted, already escaped) and replaces the text paragraphs; everything else is escaped here.
 */
export function renderEmailHtml(message: Message): string {
  const image = safeUrl(message.imageUrl);
  const link = safeUrl(message.url);
  const original = safeUrl(message.links?.original);
  const links = link !== undefined || original !== undefined;
  const parts = [
    `<h1 style="${STYLE.h1}">${escapeHtml(message.title)}</h1>`,
    message.html ?? paragraphs(message.text),
    factsTable(message),
    itemList(message),
    image ? `<img src="${escapeHtml(image)}" alt="" style="${STYLE.img}">` : '',
    inlineImages(message),
    link ? `<p style="${STYLE.p}"><a href="${escapeHtml(link)}" style="${STYLE.button}">View details</a></p>` : '',
    original ? `<p style="${STYLE.p}"><a href="${escapeHtml(original)}">Download the original</a></p>` : '',
    links ? `<p style="${STYLE.p};${STYLE.muted};font-size:12px">These links expire; ask for a new message if one no longer opens.</p>` : '',
  ].filter((p) => p !== '');
  return [
    '<!doctype html>',
    '<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">',
    `<title>${escapeHtml(message.title)}</title></head>`,
    `<body style="${STYLE.body}"><div style="${STYLE.card}">`,
    ...parts,
    '</div></body></html>',
  ].join('\n');
}

/** The plain-text alternative: the same content, readable in any client. */
export function renderEmailText(message: Message): string {
  const lines: string[] = [message.title, '', message.text.trim()];
  if (message.facts?.length) {
    lines.push('');
    const width = Math.max(...message.facts.map((f) => f.label.length));
    for (const f of message.facts) lines.push(`${`${f.label}:`.padEnd(width + 2)}${f.value}`);
  }
  if (message.items?.length) {
    lines.push('');
    for (const item of message.items) {
      let line = `- ${item.title}`;
      if (item.status) line += ` (${item.status})`;
      if (item.detail) line += `: ${item.detail}`;
      lines.push(line);
      const link = safeUrl(item.url);
      if (link) lines.push(`  ${link}`);
    }
  }
  const link = safeUrl(message.url);
  const original = safeUrl(message.links?.original);
  if (link !== undefined || original !== undefined) lines.push('');
  if (link) lines.push(`Details: ${link}`);
  if (original) lines.push(`Original: ${original}`);
  return `${lines.join('\n')}\n`;
}
