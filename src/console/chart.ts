import { type Html, html } from './html.js';

export interface HourBucket {
  readonly hour: Date;
  readonly uploads: number;
  readonly failures: number;
}

const W = 480;
const H = 160;
const PAD = { left: 26, right: 6, top: 10, bottom: 22 };

/** Uploads and failures per hour as an inline SVG bar chart (server-side: no script, no external request). */
export function hourlyChart(buckets: readonly HourBucket[]): Html {
  const max = Math.max(1, ...buckets.map((b) => Math.max(b.uploads, b.failures)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, buckets.length);
  const bar = Math.max(1, slot / 2 - 1.5);
  const y = (n: number) => PAD.top + plotH - (n / max) * plotH;
  const bars = buckets.map((b, i) => {
    const x = PAD.left + i * slot + 1;
    const label = `${b.hour.toISOString().slice(11, 16)}Z: ${b.uploads} uploads, ${b.failures} failures`;
    return html`<g
      ><title>${label}</title
      ><rect
        x="${x.toFixed(1)}"
        y="${y(b.uploads).toFixed(1)}"
        width="${bar.toFixed(1)}"
        height="${(PAD.top + plotH - y(b.uploads)).toFixed(1)}"
        fill="#2754c5" /><rect
        x="${(x + bar + 1).toFixed(1)}"
        y="${y(b.failures).toFixed(1)}"
        width="${bar.toFixed(1)}"
        height="${(PAD.top + plotH - y(b.failures)).toFixed(1)}"
        fill="#b3261e"
    /></g>`;
  });
  const ticks = buckets
    .map((b, i) => ({ b, i }))
    .filter(({ i }) => i % 6 === 0)
    .map(
      ({ b, i }) => html`<text x="${(PAD.left + i * slot).toFixed(1)}" y="${H - 8}" font-size="11" fill="#5b6673">${b.hour.toISOString().slice(11, 16)}</text>`,
    );
  const total = buckets.reduce((n, b) => n + b.uploads, 0);
  const failed = buckets.reduce((n, b) => n + b.failures, 0);
  return html`<svg
      class="chart"
      viewBox="0 0 ${W} ${H}"
      role="img"
      aria-label="Uploads and failures per hour over the last 24 hours: ${total} uploads, ${failed} failures"
    >
      <line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${W - PAD.right}" y2="${PAD.top + plotH}" stroke="#9aa4b1" />
      <text x="2" y="${PAD.top + 10}" font-size="11" fill="#5b6673">${max}</text>
      <text x="2" y="${PAD.top + plotH}" font-size="11" fill="#5b6673">0</text>
      ${bars}${ticks}
    </svg>
    <p class="legend">
      <span><span class="swatch swatch-uploads"></span>uploads (${total})</span><span><span class="swatch swatch-failures"></span>failures (${failed})</span
      ><span>hours in UTC</span>
    </p>`;
}
