import { localHour } from '../timezone.js';
import type { SummaryReport } from './report.js';

/** Chart size, px: wide enough for 24 pairs of bars, small enough for a mail (≈ 13 KB PNG). */
export const CHART_WIDTH = 720;
export const CHART_HEIGHT = 300;

const PAD = { left: 48, right: 16, top: 36, bottom: 40 };
const COLORS = { uploads: '#3b82f6', failures: '#ef4444', grid: '#e5e7eb', text: '#374151' };

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A round axis maximum ≥ n: 1, 2, 5 × 10^k. */
function niceMax(n: number): number {
  if (n <= 4) return 4;
  const pow = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * pow >= n) return m * pow;
  return 10 * pow;
}

function hourLabel(iso: string, timeZone: string): string {
  return localHour(new Date(iso), timeZone);
}

/** The chart as SVG: uploads and failures per hour of the window, hours in the report's timezone. */
export function chartSvg(r: SummaryReport): string {
  const w = CHART_WIDTH - PAD.left - PAD.right;
  const h = CHART_HEIGHT - PAD.top - PAD.bottom;
  const n = Math.max(1, r.hourly.length);
  const max = niceMax(Math.max(0, ...r.hourly.map((b) => Math.max(b.uploads, b.failures))));
  const slot = w / n;
  const bar = Math.max(1, slot * 0.38);
  const y = (v: number) => PAD.top + h - (v / max) * h;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${PAD.left}" y="20" font-size="14" fill="${COLORS.text}">${esc(`Uploads and failures per hour (${r.timeZone})`)}</text>`,
    `<rect x="${CHART_WIDTH - 190}" y="10" width="10" height="10" fill="${COLORS.uploads}"/><text x="${CHART_WIDTH - 176}" y="19" font-size="12" fill="${COLORS.text}">uploads</text>`,
    `<rect x="${CHART_WIDTH - 110}" y="10" width="10" height="10" fill="${COLORS.failures}"/><text x="${CHART_WIDTH - 96}" y="19" font-size="12" fill="${COLORS.text}">failures</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    const gy = y(v).toFixed(1);
    out.push(`<line x1="${PAD.left}" x2="${PAD.left + w}" y1="${gy}" y2="${gy}" stroke="${COLORS.grid}"/>`);
    out.push(
      `<text x="${PAD.left - 6}" y="${gy}" font-size="11" text-anchor="end" dominant-baseline="middle" fill="${COLORS.text}">${Number.isInteger(v) ? v : v.toFixed(1)}</text>`,
    );
  }
  r.hourly.forEach((b, i) => {
    const x = PAD.left + i * slot + slot * 0.1;
    if (b.uploads > 0)
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y(b.uploads).toFixed(1)}" width="${bar.toFixed(1)}" height="${(PAD.top + h - y(b.uploads)).toFixed(1)}" fill="${COLORS.uploads}"/>`,
      );
    if (b.failures > 0)
      out.push(
        `<rect x="${(x + bar).toFixed(1)}" y="${y(b.failures).toFixed(1)}" width="${bar.toFixed(1)}" height="${(PAD.top + h - y(b.failures)).toFixed(1)}" fill="${COLORS.failures}"/>`,
      );
    if (i % 3 === 0) {
      out.push(
        `<text x="${(PAD.left + i * slot + slot / 2).toFixed(1)}" y="${PAD.top + h + 16}" font-size="11" text-anchor="middle" fill="${COLORS.text}">${esc(hourLabel(b.hour, r.timeZone))}</text>`,
      );
    }
  });
  out.push(`<line x1="${PAD.left}" x2="${PAD.left + w}" y1="${PAD.top + h}" y2="${PAD.top + h}" stroke="${COLORS.text}"/>`);
  out.push(
    `<text x="${PAD.left + w / 2}" y="${CHART_HEIGHT - 6}" font-size="11" text-anchor="middle" fill="${COLORS.text}">${esc(`${r.date} · hour of day`)}</text>`,
  );
  out.push('</svg>');
  return out.join('\n');
}

/**
 * The chart as PNG (SVG rendered by sharp/librsvg with the system's DejaVu fonts). Plain PNG at
 * level 6: ~12 ms and ~13 KB; palette quantisation halves the bytes but costs ~64 ms a chart,
 * which dominated a 300-owner run (bench/housekeeping.ts).
 */
export async function renderChartPng(r: SummaryReport): Promise<Buffer> {
  // Loaded on the first chart: libvips would otherwise sit in every process's memory (~10 MB),
  // although the image work itself runs in the step pools' workers.
  const sharp = (await import('sharp')).default;
  return sharp(Buffer.from(chartSvg(r)), { density: 72 })
    .png({ compressionLevel: 6 })
    .toBuffer();
}
