/**
 * The main thread's reads of an original, per upload: process-file sniffs its first bytes, and
 * each of the three steps reads it whole before handing it to its pool. CPU-ms per read of the
 * bench's ~1 MP photo through the local store, each way against the old one, in this process.
 *
 *   node dist/bench/blob-reads.js            (BENCH_READS=300)
 */
import { buffer } from 'node:stream/consumers';

import { SNIFF_BYTES } from '../jobs/lib/sniff.js';
import { readHead } from '../jobs/process-file.js';
import { LocalBlobStore } from '../src/blobs/local.js';
import { readWhole } from '../src/blobs/read.js';
import { photoLike } from '../test/fixtures/images.js';
import { createTempDir } from '../test/helpers/env.js';

const READS = Number(process.env.BENCH_READS ?? 300);

async function cpuMsPerRead(read: () => Promise<Buffer>): Promise<number> {
  for (let i = 0; i < 20; i++) await read();
  const c0 = process.cpuUsage();
  for (let i = 0; i < READS; i++) await read();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / READS;
}

const tmp = await createTempDir('ns-reads-');
try {
  const blobs = await LocalBlobStore.open({ dir: tmp.dir });
  const photo = await photoLike(1155, 866, 10);
  await blobs.put('bench/photo.jpg', photo);
  console.log(`blob reads of a ${(photo.length / 1024).toFixed(0)} KiB original, ${READS} each, alternating:`);
  const rows: Record<string, { old: number[]; now: number[] }> = { sniff: { old: [], now: [] }, 'step read': { old: [], now: [] } };
  for (let round = 0; round < 2; round++) {
    rows.sniff!.old.push(await cpuMsPerRead(async () => readHead(await blobs.get('bench/photo.jpg'), SNIFF_BYTES)));
    rows.sniff!.now.push(await cpuMsPerRead(async () => readHead(await blobs.get('bench/photo.jpg', { firstBytes: SNIFF_BYTES }), SNIFF_BYTES)));
    rows['step read']!.old.push(await cpuMsPerRead(async () => buffer(await blobs.get('bench/photo.jpg'))));
    rows['step read']!.now.push(await cpuMsPerRead(async () => readWhole(await blobs.get('bench/photo.jpg'))));
  }
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  for (const [name, { old, now }] of Object.entries(rows))
    console.log(
      `  ${name.padEnd(10)} ${mean(old).toFixed(2)} → ${mean(now).toFixed(2)} CPU-ms (${(mean(now) / mean(old)).toFixed(2)} ×)   [old: ${name === 'sniff' ? 'the whole original read, 4 KB kept' : 'node:stream/consumers buffer()'}]`,
    );
  await blobs.close();
} finally {
  await tmp.remove();
}
