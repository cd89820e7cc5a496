import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import sharp from 'sharp';

import { detectType, isProcessableImage, sniffType } from '../../jobs/lib/sniff.js';
import { exifRotatedJpeg, pngBomb, textImage, tinyPdf } from '../fixtures/images.js';

const solid = (format: 'png' | 'webp' | 'gif' | 'tiff' | 'avif' | 'jpeg') =>
  sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } })
    .toFormat(format)
    .toBuffer();

describe('sniffType', () => {
  test('names image formats from their bytes', async () => {
    const expected = { png: 'image/png', webp: 'image/webp', gif: 'image/gif', tiff: 'image/tiff', avif: 'image/avif', jpeg: 'image/jpeg' } as const;
    for (const [format, mime] of Object.entries(expected)) {
      const bytes = await solid(format as keyof typeof expected);
      const sniffed = sniffType(bytes);
      assert.equal(sniffed.mime, mime, format);
      assert.equal(sniffed.kind, 'image');
      assert.ok(isProcessableImage(sniffed.mime), format);
      assert.equal((await detectType(bytes)).mime, mime, `detectType agrees on ${format}`);
    }
    assert.equal(sniffType(await exifRotatedJpeg()).ext, 'jpg');
    assert.equal(sniffType(pngBomb(64, 64)).mime, 'image/png');
  });

  test('PDF, text, empty and unknown bytes', async () => {
    assert.deepEqual(sniffType(tinyPdf()), { mime: 'application/pdf', kind: 'pdf', ext: 'pdf' });
    assert.deepEqual(sniffType(Buffer.from('Invoice 2024\nTotal: 12,50 €\n')), { mime: 'text/plain', kind: 'text', ext: 'txt' });
    assert.deepEqual(sniffType(Buffer.alloc(0)), { mime: 'application/x-empty', kind: 'other' });
    assert.equal(sniffType(Buffer.from([0x00, 0x01, 0x02, 0x03, 0xfe, 0x99])).mime, 'application/octet-stream');
    // A multi-byte character cut by the end of the head is still text.
    const euro = Buffer.from('price: 10 €', 'utf8');
    assert.equal(sniffType(euro.subarray(0, euro.length - 1)).kind, 'text');
    assert.equal(sniffType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"></svg>')).mime, 'image/svg+xml');
    assert.equal(isProcessableImage('image/svg+xml'), false);
    assert.equal(isProcessableImage('IMAGE/JPEG; q=1'), true);
  });

  test('detectType falls back to file-type for the long tail', async () => {
    // A 7z archive signature: unknown to sniffType, known to file-type.
    const sevenZip = Buffer.concat([Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0x00, 0x04]), Buffer.alloc(64)]);
    assert.equal(sniffType(sevenZip).mime, 'application/octet-stream');
    const detected = await detectType(sevenZip);
    assert.equal(detected.mime, 'application/x-7z-compressed');
    assert.equal(detected.kind, 'other');
  });

  test('the bytes win over a lying name: a PNG of rendered text is an image', async () => {
    assert.equal(sniffType(await textImage(['hello'])).mime, 'image/png');
  });
});
