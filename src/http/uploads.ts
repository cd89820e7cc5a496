import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { originalKey } from '../blobs/keys.js';
import { ErrorCodes, NightshiftError } from '../errors.js';
import { classifyFault, faultError } from '../faults.js';
import { quotaState } from '../quota.js';
import type { FileRecord, Store } from '../store/types.js';
import type { FileRouteDeps } from './deps.js';
import { FileView, OWNER, UploadBody, UploadItems } from './file-schemas.js';
import { bodyReceived } from './guards.js';
import { presentFile, sanitizeFilename } from './present.js';
import { routeSchema } from './schema.js';
import { parse } from './validate.js';

/** How long a closing server waits for cut uploads to clean up after themselves, ms. */
const UPLOAD_SETTLE_MS = 2_000;

interface Stored {
  readonly id: string;
  readonly blobKey: string;
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
}

type Outcome = { readonly file: FileRecord } | { readonly error: NightshiftError; readonly cause: Error };

/**
 * POST /files (and its seed-compatible alias /files/upload): every `file` part becomes a file.
 * The body is all-or-nothing: a part refused mid-stream (too large, over quota, malformed)
 * removes every blob this request stored. Then each file's record is written on its own, and a
 * record that cannot be written takes its blob with it: no blob is ever left without a record.
 */
export function uploadRoutes(app: FastifyInstance, deps: FileRouteDeps): void {
  const doc = {
    tags: ['files'],
    consumes: ['multipart/form-data'],
    body: UploadBody,
    response: { 202: FileView.describe('one `file` part: the file, queued'), 207: UploadItems },
  } as const;
  // A stop that cuts an upload's socket must still let its handler remove the partial blob.
  const inflight = new Set<Promise<unknown>>();
  app.addHook('onClose', async () => {
    const timer = new AbortController();
    await Promise.race([Promise.allSettled([...inflight]), sleep(UPLOAD_SETTLE_MS, undefined, { signal: timer.signal }).catch(() => undefined)]);
    timer.abort();
  });
  const handler = (request: FastifyRequest, reply: FastifyReply) => {
    const run = upload(request, reply, deps);
    inflight.add(run);
    void run.then(
      () => inflight.delete(run),
      () => inflight.delete(run),
    );
    return run;
  };
  app.post('/files', { schema: routeSchema({ ...doc, summary: 'Upload one or more files' }) }, handler);
  app.post('/files/upload', { schema: routeSchema({ ...doc, summary: 'Upload (seed-compatible path)', alias: 'POST /api/v1/files' }) }, handler);
}

async function upload(request: FastifyRequest, reply: FastifyReply, deps: FileRouteDeps) {
  const { config, store, blobs, enqueue } = deps;
  if (!request.isMultipart()) throw badRequest('send the file as multipart/form-data in a field named "file"');
  if (!/;\s*boundary=/i.test(request.headers['content-type'] ?? '')) throw badRequest('multipart/form-data without a boundary parameter');
  const stored: Stored[] = [];
  let writing: string | null = null;
  let owner: string | null = null;
  let quotaChecked = false;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') {
          part.file.resume();
          continue;
        }
        const id = randomUUID();
        writing = originalKey(id);
        // Past the limit busboy only skips to the part's end, which a hostile client never sends:
        // stop the write at once, so the 413 goes out now and the partial blob is removed.
        const overLimit = new AbortController();
        part.file.once('limit', () => overLimit.abort(tooLarge(config.maxUploadBytes)));
        const { size } = await blobs.put(writing, part.file, { contentType: part.mimetype, signal: overLimit.signal }).catch((err: unknown) => {
          throw overLimit.signal.aborted ? overLimit.signal.reason : err;
        });
        stored.push({ id, blobKey: writing, filename: sanitizeFilename(part.filename), contentType: part.mimetype || 'application/octet-stream', size });
        writing = null;
        // With throwFileSizeLimit the stream errors on overflow; this covers a truncated end too.
        if (part.file.truncated) throw tooLarge(config.maxUploadBytes);
      } else if (part.fieldname === 'owner' && typeof part.value === 'string' && part.value !== '') {
        owner = parse(OWNER, part.value);
        // Before a file part arrives, an owner over quota costs no stored body.
        if (stored.length === 0) {
          await refuseOverQuota(store, owner);
          quotaChecked = true;
        }
      }
    }
    bodyReceived(request);
    // The owner field came after a file: the bodies are stored, and dropped again below if refused.
    if (owner !== null && !quotaChecked) await refuseOverQuota(store, owner);
  } catch (err) {
    await removeBlobs(deps, [...stored.map((s) => s.blobKey), ...(writing ? [writing] : [])]);
    const mapped = uploadError(err, config);
    // A client that went away is not a store or disk fault (its ECONNRESET would read as one).
    if (mapped === err && request.raw.destroyed && !(err instanceof NightshiftError) && typeof (err as { statusCode?: unknown }).statusCode !== 'number') {
      throw new NightshiftError(ErrorCodes.BAD_REQUEST, 'the connection closed before the upload was complete', { status: 400, cause: err });
    }
    throw mapped;
  }
  if (stored.length === 0) throw badRequest('no file in the request: use a multipart field named "file"');

  const outcomes: Outcome[] = [];
  for (const s of stored) outcomes.push(await record(deps, request, s, owner));
  // One pending check per owner: a burst of uploads coalesces into one job record.
  if (owner !== null && outcomes.some((o) => 'file' in o)) await enqueue('quota-check', { owner }, { uniqueBy: 'owner' });

  if (stored.length === 1) {
    const only = outcomes[0];
    // The error as it was, so the error handler reports a store or disk fault to the monitor.
    if (!only || 'error' in only) throw only?.cause ?? new NightshiftError(ErrorCodes.INTERNAL, 'upload failed', { status: 500 });
    return reply.code(202).header('Location', `/api/v1/files/${only.file.id}`).send(presentFile(only.file, config.publicUrl));
  }
  return reply.code(207).send({
    items: outcomes.map((o) =>
      'file' in o
        ? { status: 202, file: presentFile(o.file, config.publicUrl) }
        : { status: o.error.status, error: { code: o.error.code, message: o.error.message } },
    ),
  });
}

/** Write one file's record and queue it; if the record cannot be written, its blob goes too. */
async function record(deps: FileRouteDeps, request: FastifyRequest, s: Stored, owner: string | null): Promise<Outcome> {
  let file: FileRecord;
  try {
    file = await deps.store.createFile({ id: s.id, owner, blobKey: s.blobKey, filename: s.filename, contentType: s.contentType, size: s.size });
  } catch (err) {
    await removeBlobs(deps, [s.blobKey]);
    request.log.warn({ err, fileId: s.id }, 'upload stored but its record could not be written: blob removed');
    const error = asNightshiftError(err);
    return { error, cause: err instanceof Error ? err : error };
  }
  // The record is there: a failed enqueue leaves a file `uploaded`, which the stuck-file sweep re-queues.
  await deps.enqueue('process-file', { fileId: s.id });
  request.log.info({ fileId: s.id, owner, size: s.size }, 'file uploaded');
  deps.metrics?.uploadBytes(s.size);
  return { file };
}

async function removeBlobs(deps: FileRouteDeps, keys: readonly string[]): Promise<void> {
  for (const key of keys) await deps.blobs.delete(key).catch(() => undefined);
}

/** The answer a failed record write would have had on its own (507 disk full, 503 store down…). */
function asNightshiftError(err: unknown): NightshiftError {
  if (err instanceof NightshiftError) return err;
  const fault = classifyFault(err);
  if (fault) return faultError(fault, err);
  return new NightshiftError(ErrorCodes.INTERNAL, 'the file record could not be written', { status: 500, cause: err });
}

/** 507 while the owner's stored bytes are at or over their quota (until usage drops). */
async function refuseOverQuota(store: Store, owner: string): Promise<void> {
  const q = await quotaState(store, owner);
  if (!q.exceeded || q.quotaBytes === null) return;
  throw new NightshiftError(
    ErrorCodes.QUOTA_EXCEEDED,
    `owner ${owner} has used ${q.usedBytes} of a ${q.quotaBytes}-byte storage quota: uploads are refused until files are deleted (DELETE /api/v1/files/{id}) or the quota is raised`,
    { status: 507 },
  );
}

const MALFORMED = /^Multipart: |Boundary required|unexpected end of (multipart data|form)|Malformed part header|terminated early/i;

function uploadError(err: unknown, config: FileRouteDeps['config']): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') return tooLarge(config.maxUploadBytes);
  if (code === 'FST_FILES_LIMIT') {
    return new NightshiftError(ErrorCodes.UPLOAD_TOO_LARGE, `at most ${config.maxUploadFiles} files per request (MAX_UPLOAD_FILES)`, { status: 413 });
  }
  if (!(err instanceof NightshiftError) && err instanceof Error && MALFORMED.test(err.message)) {
    return badRequest(`malformed multipart body: ${err.message}`);
  }
  return err;
}

function badRequest(message: string): NightshiftError {
  return new NightshiftError(ErrorCodes.BAD_REQUEST, message, { status: 400 });
}

function tooLarge(max: number): NightshiftError {
  return new NightshiftError(ErrorCodes.UPLOAD_TOO_LARGE, `the file is larger than the limit of ${max} bytes (MAX_UPLOAD_BYTES)`, { status: 413 });
}
