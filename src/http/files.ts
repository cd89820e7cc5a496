import type { FastifyInstance, FastifyReply } from 'fastify';

import { fileBlobKeys } from '../blobs/keys.js';
import { ErrorCodes, NightshiftError } from '../errors.js';
import { stepResult } from '../pipeline/result.js';
import type { FileRecord, Store } from '../store/types.js';
import type { FileRouteDeps } from './deps.js';
import { DeletedView, DeleteQuery, FilePageView, FileView, GetQuery, IdParams, ListQuery, StatusView } from './file-schemas.js';
import { presentFile } from './present.js';
import { routeSchema } from './schema.js';
import { uploadRoutes } from './uploads.js';
import { notFound, parse } from './validate.js';
export type { FileRouteDeps } from './deps.js';
export { OWNER } from './file-schemas.js';

const tags = ['files'];
const binary = (description: string, contentType: string) => ({ description, contentType });

export function fileRoutes(app: FastifyInstance, deps: FileRouteDeps): void {
  const { config, store, blobs } = deps;
  uploadRoutes(app, deps);

  app.get('/files', { schema: routeSchema({ summary: 'List files', tags, querystring: ListQuery, response: { 200: FilePageView } }) }, async (request) => {
    const q = parse(ListQuery, request.query);
    const page = await store.listFiles({ status: q.status as FileRecord['status'] | undefined, owner: q.owner, limit: q.limit, cursor: q.cursor });
    const words = q.include === 'words';
    return { items: page.items.map((f) => presentFile(f, config.publicUrl, { words })), nextCursor: page.nextCursor };
  });

  app.get(
    '/files/:id',
    { schema: routeSchema({ summary: 'One file', tags, params: IdParams, querystring: GetQuery, response: { 200: FileView } }) },
    async (request) => {
      const file = await fileOf(store, parse(IdParams, request.params).id);
      return presentFile(file, config.publicUrl, { words: parse(GetQuery, request.query).include === 'words' });
    },
  );

  app.get(
    '/files/:id/status',
    {
      schema: routeSchema({
        summary: "A file's status (seed-compatible)",
        description: 'The seed frontends poll this: `{ id, status, steps, result }` (compact result, no word boxes).',
        alias: 'GET /api/v1/files/{id}',
        tags,
        params: IdParams,
        response: { 200: StatusView },
      }),
    },
    async (request) => {
      const { id, status, steps, result } = presentFile(await fileOf(store, parse(IdParams, request.params).id), config.publicUrl);
      return { id, status, steps, result };
    },
  );

  app.get(
    '/files/:id/original',
    {
      schema: routeSchema({
        summary: 'Download the original',
        description: 'Streamed, as an attachment, with the sniffed type (octet-stream until processing has sniffed it).',
        tags,
        params: IdParams,
        response: { 200: binary('the bytes as uploaded', 'application/octet-stream') },
      }),
    },
    async (request, reply) => {
      const file = await fileOf(store, parse(IdParams, request.params).id);
      const stream = await blobs.get(file.blobKey);
      // The declared type is the uploader's word; only a sniffed one (set when processing starts) is served.
      const type = file.status === 'uploaded' ? 'application/octet-stream' : file.contentType;
      return downloadHeaders(reply, type).header('Content-Disposition', contentDisposition(file.filename)).header('Content-Length', file.size).send(stream);
    },
  );

  app.get(
    '/files/:id/text',
    {
      schema: routeSchema({ summary: "The OCR'd text", tags, params: IdParams, response: { 200: binary('the text OCR read, UTF-8', 'text/plain') } }),
    },
    async (request, reply) => {
      const file = await fileOf(store, parse(IdParams, request.params).id);
      const ocr = file.steps.find((s) => s.name === 'ocr');
      if (!ocr || (ocr.status !== 'completed' && ocr.status !== 'skipped')) {
        throw new NightshiftError(ErrorCodes.NOT_FOUND, `file ${file.id} has no OCR text (yet)`, { status: 404 });
      }
      const text = stepResult(file, 'ocr')?.text ?? '';
      return downloadHeaders(reply, 'text/plain; charset=utf-8').send(text);
    },
  );

  app.get(
    '/files/:id/thumbnail',
    { schema: routeSchema({ summary: 'The thumbnail', tags, params: IdParams, response: { 200: binary('a WebP thumbnail', 'image/webp') } }) },
    async (request, reply) => {
      const file = await fileOf(store, parse(IdParams, request.params).id);
      const key = stepResult(file, 'thumbnail')?.thumbnailKey;
      if (typeof key !== 'string') throw new NightshiftError(ErrorCodes.NOT_FOUND, `file ${file.id} has no thumbnail (yet)`, { status: 404 });
      const stream = await blobs.get(key);
      return reply.type('image/webp').header('Cache-Control', 'private, max-age=3600').send(stream);
    },
  );

  app.delete(
    '/files/:id',
    {
      schema: routeSchema({
        summary: 'Delete a file',
        description:
          'Removes the record, the original and every derived blob; the owner’s usage drops at once (a 507 lifts with it). 409 while the file is processing unless `force=true`.',
        tags,
        params: IdParams,
        querystring: DeleteQuery,
        response: { 202: DeletedView },
      }),
    },
    async (request, reply) => {
      const { id } = parse(IdParams, request.params);
      const force = parse(DeleteQuery, request.query).force === 'true';
      // Queued work first, so nothing starts on a file that is going; a run under way finds the record gone.
      if (force) await deps.agenda?.cancel({ data: { fileId: id } });
      const outcome = await store.deleteFile(id, { force });
      if (outcome.status === 'missing') throw notFound('file', id);
      if (outcome.status === 'busy') {
        throw new NightshiftError(ErrorCodes.FILE_BUSY, `file ${id} is being processed; wait until it has finished, or delete with ?force=true`, {
          status: 409,
        });
      }
      const keys = new Set([outcome.file.blobKey, ...fileBlobKeys(id)]);
      const thumb = stepResult(outcome.file, 'thumbnail')?.thumbnailKey;
      if (typeof thumb === 'string') keys.add(thumb);
      for (const key of keys) await blobs.delete(key);
      if (!force) await deps.agenda?.cancel({ data: { fileId: id } });
      // The owner's alert thresholds re-arm from the new figure.
      if (outcome.file.owner !== null) await deps.enqueue('quota-check', { owner: outcome.file.owner }, { uniqueBy: 'owner' });
      request.log.info({ fileId: id, owner: outcome.file.owner, force }, 'file deleted');
      return reply.code(202).send({ id, deleted: true });
    },
  );

  app.post(
    '/files/:id/reprocess',
    {
      schema: routeSchema({
        summary: 'Process a file again',
        description: 'Only a completed or failed file: of concurrent calls exactly one is 202, the others 409.',
        tags,
        params: IdParams,
        response: { 202: FileView },
      }),
    },
    async (request, reply) => {
      const { id } = parse(IdParams, request.params);
      if (!(await store.resetForReprocess(id))) {
        const file = await fileOf(store, id);
        const why = file.status === 'uploaded' ? 'is already queued for processing' : 'is being processed; try again when it has finished';
        throw new NightshiftError(ErrorCodes.FILE_BUSY, `file ${id} ${why}`, { status: 409 });
      }
      await deps.enqueue('process-file', { fileId: id });
      const file = await store.getFile(id);
      return reply.code(202).send(file ? presentFile(file, config.publicUrl) : { id, status: 'uploaded' });
    },
  );
}

async function fileOf(store: Store, id: string): Promise<FileRecord> {
  const file = await store.getFile(id);
  if (!file) throw notFound('file', id);
  return file;
}

/** What every download carries: its type, no sniffing by the browser, no script if opened. */
function downloadHeaders(reply: FastifyReply, type: string): FastifyReply {
  return reply
    .type(type)
    .header('X-Content-Type-Options', 'nosniff')
    .header('Content-Security-Policy', "sandbox; default-src 'none'")
    .header('Cache-Control', 'private, no-cache');
}

/** `attachment` always (never rendered in the API's origin), an ASCII fallback name and the UTF-8 one (RFC 6266 / 8187). */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\;]/g, '_');
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
