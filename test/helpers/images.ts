import zlib from 'node:zlib';

import sharp from 'sharp';

/** A PNG with black words on white, large enough for Tesseract to read reliably. */
export async function textImage(words: readonly string[]): Promise<Buffer> {
  const lines = words.map((w, i) => `<text x="40" y="${90 + i * 90}" font-family="DejaVu Sans" font-size="64" fill="#000">${w}</text>`);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="${120 + words.length * 90}"><rect width="100%" height="100%" fill="#fff"/>${lines.join('')}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** A photo-like JPEG: smooth gradients plus noise, so it compresses like a photo. */
export async function photoLike(width = 1600, height = 1200): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  let seed = 12345;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const n = (seed >> 16) % 40;
      const i = (y * width + x) * 3;
      raw[i] = Math.min(255, ((x / width) * 200 + n) | 0);
      raw[i + 1] = Math.min(255, ((y / height) * 180 + n) | 0);
      raw[i + 2] = Math.min(255, (((x + y) / (width + height)) * 220 + n) | 0);
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

/**
 * A small PNG whose header claims 30000×30000 (900 megapixels) of greyscale: a decompression
 * bomb. Only the first rows are present; a decoder that trusts the header before checking the
 * pixel count would try to allocate ~900 MB.
 */
export function pngBomb(width = 30000, height = 30000): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = Buffer.alloc((width + 1) * 64); // 64 rows of filter byte 0 + zeros
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
