/**
 * The bundled English model (@tesseract.js-data/eng, tessdata_best integer) against the one in
 * a directory (default Debian's tesseract-ocr-eng, tessdata_fast), in one process, on images
 * whose text is known: characters wrong (edit distance ÷ length, whitespace folded) and CPU per
 * read (the mean of BENCH_ROUNDS=3), each image read by both, warm, alternately.
 *
 *   sudo apt-get install tesseract-ocr-eng      (4 MB of data; no tesseract binary)
 *   node dist/bench/ocr-models.js               (BENCH_OCR_LANG_DIR=/usr/share/tesseract-ocr/5/tessdata)
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import sharp from 'sharp';

import { ocrImage, OcrPool } from '../jobs/lib/ocr.js';
import { DEBIAN_TESSDATA_DIR } from '../jobs/lib/ocr-langs.js';
import { photoLike, textImage } from '../test/fixtures/images.js';
import { invoicePage, invoiceText } from './images.js';

const limits = { maxPixels: 100_000_000 };
const dir = process.env.BENCH_OCR_LANG_DIR ?? DEBIAN_TESSDATA_DIR;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

const fold = (s: string) => s.replace(/\s+/g, ' ').trim();

async function cases(): Promise<Array<{ name: string; truth: string; bytes: Buffer }>> {
  const prose = [
    'The committee will meet on Tuesday, 14 March, at 10:30 in room B-204.',
    'Please bring the signed forms, your badge and a copy of the agenda.',
    'Questions? Write to facilities@example.org or call +44 20 7946 0958.',
  ];
  const at20 = await textImage(prose, { fontSize: 20, width: 960 });
  const receipt = Array.from({ length: 24 }, (_, i) => `Line ${i} coffee 3.20 EUR`);
  const out = [];
  for (const seed of [1, 2, 3, 4]) out.push({ name: `invoice ${seed}`, truth: invoiceText(seed).join(' '), bytes: await invoicePage(seed) });
  for (const px of [12, 14, 18, 28])
    out.push({ name: `prose ${px} px`, truth: prose.join(' '), bytes: await textImage(prose, { fontSize: px, width: px * 48 }) });
  out.push(
    { name: 'prose, JPEG quality 35', truth: prose.join(' '), bytes: await sharp(at20).jpeg({ quality: 35 }).toBuffer() },
    { name: 'prose, rotated 2°', truth: prose.join(' '), bytes: await sharp(at20).rotate(2, { background: '#ffffff' }).png().toBuffer() },
    { name: 'prose, blurred', truth: prose.join(' '), bytes: await sharp(at20).blur(1.2).png().toBuffer() },
    { name: 'receipt 24 lines', truth: receipt.join(' '), bytes: await textImage(receipt, { fontSize: 22, width: 600 }) },
    {
      name: 'white on dark',
      truth: 'White text on a dark background reads too',
      bytes: await sharp(await textImage(['White text on a dark', 'background reads too'], { fontSize: 30 }))
        .negate({ alpha: false })
        .png()
        .toBuffer(),
    },
    {
      name: 'screenshot 14 px',
      truth: 'File Edit View Window Help Saved 3 minutes ago by alice',
      bytes: await textImage(['File  Edit  View  Window  Help', 'Saved 3 minutes ago by alice'], { fontSize: 14, width: 420 }),
    },
    {
      name: 'caption on a photo',
      truth: 'Holiday 2024 Lisbon',
      bytes: await sharp(await photoLike(800, 600, 41))
        .composite([{ input: await textImage(['Holiday 2024 Lisbon'], { fontSize: 40, width: 560 }), left: 120, top: 400 }])
        .jpeg()
        .toBuffer(),
    },
  );
  return out;
}

if (process.argv[1]?.endsWith('ocr-models.js')) {
  if (!existsSync(join(dir, 'eng.traineddata')) && !existsSync(join(dir, 'eng.traineddata.gz'))) {
    console.log(`no eng.traineddata in ${dir}: sudo apt-get install tesseract-ocr-eng, or set BENCH_OCR_LANG_DIR`);
    process.exit(2);
  }
  const models = { bundled: new OcrPool({ langs: ['eng'], size: 1 }), [dir]: new OcrPool({ langs: ['eng'], size: 1, langDir: dir }) };
  const totals = new Map(Object.keys(models).map((m) => [m, { wrong: 0, chars: 0, cpuMs: 0, keptWrong: 0, keptChars: 0 }]));
  const all = await cases();
  console.log(`OCR models: bundled (tessdata_best integer) against ${dir}, ${all.length} images, warm, in one process`);
  for (const c of all) {
    const cells = [c.name.padEnd(24)];
    for (const pool of Object.values(models)) await ocrImage(pool, c.bytes, limits);
    // Each model reads the image ROUNDS times, alternately, so that both share the VM's drift.
    const cpu = new Map<string, number>();
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, pool] of Object.entries(models)) {
        const before = process.cpuUsage();
        await ocrImage(pool, c.bytes, limits);
        const used = process.cpuUsage(before);
        cpu.set(name, (cpu.get(name) ?? 0) + (used.user + used.system) / 1000 / ROUNDS);
      }
    }
    for (const [name, pool] of Object.entries(models)) {
      const read = await ocrImage(pool, c.bytes, limits);
      const truth = fold(c.truth);
      const wrong = editDistance(fold(read.text), truth);
      const cpuMs = cpu.get(name) ?? 0;
      const t = totals.get(name)!;
      t.wrong += wrong;
      t.chars += truth.length;
      t.cpuMs += cpuMs;
      // What the service keeps: text under OCR_MIN_CONFIDENCE (60) is stored as "".
      const kept = read.confidence >= 60 ? fold(read.text) : '';
      if (kept !== '') {
        t.keptWrong += editDistance(kept, truth);
        t.keptChars += truth.length;
      }
      cells.push(
        `${name === 'bundled' ? 'bundled' : 'dir'} ${((100 * wrong) / truth.length).toFixed(1).padStart(5)} % wrong, confidence ${read.confidence}, ${cpuMs.toFixed(0)} CPU-ms`,
      );
    }
    console.log(cells.join(' | '));
  }
  const [base, other] = [...totals.values()];
  for (const [name, t] of totals) {
    console.log(
      `${name}: ${((100 * t.wrong) / t.chars).toFixed(2)} % of characters wrong (${((100 * t.keptWrong) / Math.max(1, t.keptChars)).toFixed(2)} % in the text kept at confidence ≥ 60), ${t.cpuMs.toFixed(0)} CPU-ms in all`,
    );
  }
  if (base && other) console.log(`CPU: ${(other.cpuMs / base.cpuMs).toFixed(2)} × the bundled model's`);
  await Promise.all(Object.values(models).map((p) => p.close()));
  process.exit(0);
}
