import type { Readable } from 'node:stream';

import { defineJob } from '../src/engine/job.js';
import { ErrorCodes, PermanentError } from '../src/errors.js';
import { failFile, settleFile } from '../src/pipeline/settle.js';
import { StepPayload } from '../src/pipeline/step.js';
import { isProcessableImage, SNIFF_BYTES, sniffType } from './lib/sniff.js';

declare module '../src/engine/payloads.js' {
  interface JobPayloads {
    'process-file': StepPayload;
  }
}

/**
 * First job of every upload: learn the real type from the bytes (never the name or the
 * declared type), mark the file processing, and fan out the steps that apply to it.
 */
export default defineJob({
  name: 'process-file',
  description: "sniffs the upload's real type and fans out the steps that apply to it",
  payload: StepPayload,
  defaults: { concurrency: 10, attempts: 3, backoffMs: 1_000, timeoutMs: 30_000, priority: 10 },
  async handler(ctx) {
    const { store, blobs, enqueue, steps: stepNames } = ctx.services;
    const file = await store.getFile(ctx.data.fileId);
    if (!file || file.status !== 'uploaded') {
      ctx.log.debug({ status: file?.status }, 'nothing to process');
      return;
    }
    if (file.size === 0) throw new PermanentError(ErrorCodes.EMPTY_FILE, 'the file is empty (0 bytes): upload it again');

    const head = await readHead(await blobs.get(file.blobKey, { firstBytes: SNIFF_BYTES }), SNIFF_BYTES);
    const sniffed = sniffType(head);
    const image = sniffed.kind === 'image' && isProcessableImage(sniffed.mime);
    const steps = stepNames.map((name) => ({ name, status: image ? ('pending' as const) : ('skipped' as const) }));
    if (!(await store.startProcessing(file.id, sniffed.mime, steps))) return;
    ctx.log.info({ declared: file.contentType, sniffed: sniffed.mime, image }, 'processing');

    if (image) {
      for (const name of stepNames) await enqueue(name, { fileId: file.id });
    } else {
      // Nothing applies (a PDF, text…): every step is skipped and the file is done now.
      await settleFile(ctx.services, file.id, ctx.log);
    }
  },
  async onFailed(ctx, error) {
    await failFile(ctx.services, ctx.data.fileId, `process-file: ${error.message}`, ctx.log);
  },
});

/** The first `bytes` of a blob's stream; the stream is closed after them. */
export async function readHead(stream: Readable, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      chunks.push(b);
      total += b.length;
      if (total >= bytes) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, bytes);
}
