import { z } from 'zod';

import { FILE_STATUSES } from '../store/types.js';

/** The request and answer shapes of the files routes: parsed with `parse()`, described in /openapi.json. */

export const OWNER = z.string().regex(/^[A-Za-z0-9._@:-]{1,128}$/, 'owner must be 1-128 characters of A-Z a-z 0-9 . _ @ : -');
const Include = z.enum(['words']).optional().describe('`words`: keep OCR word boxes in `result.words` (left out by default)');

export const ListQuery = z.object({
  status: z.enum(FILE_STATUSES as [string, ...string[]]).optional(),
  owner: OWNER.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(512).optional().describe('the `nextCursor` of the previous page'),
  include: Include,
});
export const GetQuery = z.object({ include: Include });
export const DeleteQuery = z.object({
  force: z
    .enum(['true', 'false'])
    .default('false')
    .describe('`true`: delete a file that is processing, cancelling its queued jobs first (running ones stop at their next step)'),
});
export const IdParams = z.object({ id: z.string().min(1).max(64) });

export const UploadBody = z
  .object({
    owner: OWNER.optional().describe('send it before the file parts: an owner over quota is refused before any byte is stored'),
    file: z.array(z.file()).describe('one or more parts named `file` (at most MAX_UPLOAD_FILES); each becomes a file'),
  })
  .describe('multipart/form-data');

const Step = z.object({ status: z.string(), attempts: z.number(), durationMs: z.number().nullable(), error: z.string().nullable() });

export const FileView = z
  .object({
    id: z.string(),
    owner: z.string().nullable(),
    filename: z.string(),
    contentType: z.string().describe('declared at upload, the sniffed type once processing started'),
    size: z.number(),
    status: z.enum(FILE_STATUSES as [string, ...string[]]),
    steps: z.record(z.string(), Step),
    result: z.record(z.string(), z.unknown()).nullable().describe('every step result merged; `thumbnailUrl` in place of the key'),
    error: z.string().nullable(),
    uploadedAt: z.string(),
    startedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
  })
  .describe('a file');

export const FilePageView = z.object({ items: z.array(FileView), nextCursor: z.string().nullable() }).describe('a page of files, newest first');

export const UploadItems = z
  .object({
    items: z.array(
      z.object({
        status: z.number().describe('202 created, or the status this file alone would have had'),
        file: FileView.optional(),
        error: z.object({ code: z.string(), message: z.string() }).optional(),
      }),
    ),
  })
  .describe('several `file` parts: one item per part, in order (207 Multi-Status)');

export const StatusView = z
  .object({ id: z.string(), status: z.string(), steps: z.record(z.string(), Step), result: z.record(z.string(), z.unknown()).nullable() })
  .describe('seed-compatible status: `{ id, status, steps, result }`');

export const DeletedView = z.object({ id: z.string(), deleted: z.literal(true) }).describe('the file and its blobs are gone');
