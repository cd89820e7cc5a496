import { randomUUID } from 'node:crypto';

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import { originalKey } from '../blobs/keys.js';
import type { BlobStore } from '../blobs/types.js';
import type { Config } from '../config.js';
import type { Enqueue } from '../engine/job.js';
import { ErrorCodes, NightshiftError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { stepResult } from '../pipeline/result.js';
import { quotaState } from '../quota.js';
import type { Store } from '../store/types.js';
import { presentFile, sanitizeFilename } from './present.js';
import { notFound, parse } from './validate.js';

export interface FileRouteDeps {
  readonly config: Config;
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly enqueue: Enqueue;
  readonly metrics?: Pick<Metrics, 'uploadBytes'> | undefined;
}

export const OWNER = z.string().regex(/^[A-Za-z0-9._@:-]{1,128}$/, 'owner must be 1-128 characters of A-Z a-z 0-9 . _ @ : -');
const ListQuery = z.object({
  status: z.enum(['uploaded', 'processing', 'completed', 'failed']).optional(),
  owner: OWNER.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(512).optional(),
});
const IdParams = z.object({ id: z.string().min(1).max(64) });

export function fileRoutes(app: FastifyInstance, deps: FileRouteDeps): void {
  const { config, store, blobs, enqueue } = deps;

  app.post('/files', async (request, reply) => {
    if (!request.isMultipart()) {
      throw new NightshiftError(ErrorCodes.BAD_REQUEST, 'send the file as multipart/form-data in a field named "file"', { status: 400 });
    }
    const id = randomUUID();
    const blobKey = originalKey(id);
    let owner: string | null = null;
    let upload: { filename: string; contentType: string; size: number } | null = null;
    let quotaChecked = false;
    try {
      for await (const part of request.parts()) {
        if (part.type === 'file') {
          if (part.fieldname !== 'file' || upload) {
            part.file.resume();
            continue;
          }
          const { size } = await blobs.put(blobKey, part.file, { contentType: part.mimetype });
          // With throwFileSizeLimit the stream errors on overflow; this covers a truncated end too.
          if (part.file.truncated) throw tooLarge(config.maxUploadBytes);
          upload = { filename: sanitizeFilename(part.filename), contentType: part.mimetype || 'application/octet-stream', size };
        } else if (part.fieldname === 'owner' && typeof part.value === 'string' && part.value !== '') {
          owner = parse(OWNER, part.value);
          // Before the file part arrives, so an owner over quota costs no stored body.
          if (!upload) {
            await refuseOverQuota(store, owner);
            quotaChecked = true;
          }
        }
      }
      // The owner field came after the file: the body is stored, and dropped again below if refused.
      if (owner !== null && !quotaChecked) await refuseOverQuota(store, owner);
    } catch (err) {
      await blobs.delete(blobKey).catch(() => undefined);
      if (isFileTooLarge(err)) throw tooLarge(config.maxUploadBytes);
      throw err;
    }
    if (!upload) throw new NightshiftError(ErrorCodes.BAD_REQUEST, 'no file in the request: use a multipart field named "file"', { status: 400 });

    const file = await store.createFile({ id, owner, blobKey, ...upload });
    await enqueue('process-file', { fileId: id });
    // One pending check per owner: a burst of uploads coalesces into one job record.
    if (owner !== null) await enqueue('quota-check', { owner }, { uniqueBy: 'owner' });
    request.log.info({ fileId: id, owner, size: upload.size }, 'file uploaded');
    deps.metrics?.uploadBytes(upload.size);
    return reply.code(202).header('Location', `/api/v1/files/${id}`).send(presentFile(file, config.publicUrl));
  });

  app.get('/files', async (request) => {
    const q = parse(ListQuery, request.query);
    const page = await store.listFiles({ status: q.status, owner: q.owner, limit: q.limit, cursor: q.cursor });
    return { items: page.items.map((f) => presentFile(f, config.publicUrl)), nextCursor: page.nextCursor };
  });

  app.get('/files/:id', async (request) => {
    const { id } = parse(IdParams, request.params);
    const file = await store.getFile(id);
    if (!file) throw notFound('file', id);
    return presentFile(file, config.publicUrl);
  });

  app.get('/files/:id/thumbnail', async (request, reply) => {
    const { id } = parse(IdParams, request.params);
    const file = await store.getFile(id);
    if (!file) throw notFound('file', id);
    const key = stepResult(file, 'thumbnail')?.thumbnailKey;
    if (typeof key !== 'string') throw new NightshiftError(ErrorCodes.NOT_FOUND, `file ${id} has no thumbnail (yet)`, { status: 404 });
    const stream = await blobs.get(key);
    return reply.type('image/webp').header('Cache-Control', 'private, max-age=3600').send(stream);
  });

  app.post('/files/:id/reprocess', async (request, reply) => {
    const { id } = parse(IdParams, request.params);
    if (!(await store.resetForReprocess(id))) {
      if (!(await store.getFile(id))) throw notFound('file', id);
      throw new NightshiftError(ErrorCodes.FILE_BUSY, `file ${id} is being processed; try again when it has finished`, { status: 409 });
    }
    await enqueue('process-file', { fileId: id });
    const file = await store.getFile(id);
    return reply.code(202).send(file ? presentFile(file, config.publicUrl) : { id, status: 'uploaded' });
  });
}

/** 507 while the owner's stored bytes are at or over their quota (until usage drops). */
async function refuseOverQuota(store: Store, owner: string): Promise<void> {
  const q = await quotaState(store, owner);
  if (!q.exceeded || q.quotaBytes === null) return;
  throw new NightshiftError(
    ErrorCodes.QUOTA_EXCEEDED,
    `owner ${owner} has used ${q.usedBytes} of a ${q.quotaBytes}-byte storage quota: uploads are refused until files are deleted or the quota is raised`,
    { status: 507 },
  );
}

function tooLarge(max: number): NightshiftError {
  return new NightshiftError(ErrorCodes.UPLOAD_TOO_LARGE, `the file is larger than the limit of ${max} bytes (MAX_UPLOAD_BYTES)`, { status: 413 });
}

function isFileTooLarge(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'FST_REQ_FILE_TOO_LARGE';
}
