/** Bench images made on the fly: invoice-like text pages and a hostile page of dense text. */
import sharp from 'sharp';

import { textImage } from '../test/fixtures/images.js';

/** The lines of invoicePage(seed). */
export function invoiceText(seed: number, lines = 24): string[] {
  const rows = Array.from(
    { length: lines },
    (_, i) => `Item ${seed}-${i + 1}  Widget type ${String.fromCharCode(65 + ((seed + i) % 26))}  qty ${(i % 7) + 1}  EUR ${(i * 13.37 + seed).toFixed(2)}`,
  );
  return [`INVOICE ${4800 + seed}`, ...rows, 'TOTAL DUE 1234.56  THANK YOU'];
}

export async function invoicePage(seed: number, width = 1155, lines = 24): Promise<Buffer> {
  return textImage(invoiceText(seed, lines), { width, fontSize: 28 });
}

/** A page of dense small text, `side`×`side` px: OCR on it takes far longer than any sane limit. */
export async function hostilePage(side = 9000): Promise<Buffer> {
  // Large enough glyphs that OCR_MODE=auto's check (on a 1024 px copy) sees the text.
  const tile = await textImage(
    Array.from({ length: 20 }, (_, i) => `dense hostile text line ${i} lorem ipsum dolor sit amet`),
    { width: 1800, fontSize: 64 },
  );
  const meta = await sharp(tile).metadata();
  const tiles = [];
  for (let y = 0; y + (meta.height ?? 0) <= side; y += meta.height ?? side) {
    for (let x = 0; x + (meta.width ?? 0) <= side; x += meta.width ?? side) tiles.push({ input: tile, left: x, top: y });
  }
  return sharp({ create: { width: side, height: side, channels: 3, background: '#ffffff' } })
    .composite(tiles)
    .png({ compressionLevel: 9 })
    .toBuffer();
}
