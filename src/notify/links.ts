import type { BlobStore } from '../blobs/types.js';
import type { Config } from '../config.js';
import { type LinkConfig, S3_PRESIGN_MAX_MS } from '../config/links.js';
import { linkPaths, type LinkSigner } from '../links.js';

/**
 * The links a message carries, absolute and signed: the one function every notification's URL
 * comes from (PUBLIC_URL + a path of src/links.ts + its signature). Undefined where a link
 * cannot be made (no PUBLIC_URL, no thumbnail yet); a message then goes out without it.
 */
export interface MessageLinks {
  /** The file's page in the console (`/files/:id`). */
  page(fileId: string): string | undefined;
  /** The daily summary's chart image; null owner: the all-owners report. */
  chart(owner: string | null, date: string): string | undefined;
  /** The thumbnail: a signed nightshift URL, or with LINK_MODE=presigned an S3 presigned GET. */
  thumbnail(file: { readonly id: string; readonly thumbnailKey: string }): Promise<string | undefined>;
  /** The uploaded bytes, the same way as the thumbnail. */
  original(file: { readonly id: string; readonly blobKey: string }): Promise<string | undefined>;
}

export interface MessageLinkOptions {
  /** PUBLIC_URL without a trailing slash; undefined: no nightshift links (presigned ones still work). */
  readonly publicUrl: string | undefined;
  /** Signs every link; undefined: links go out unsigned (no API_TOKEN and no LINK_SIGNING_SECRET: the API is open). */
  readonly signer: LinkSigner | undefined;
  /** LINK_MODE and LINK_TTL. */
  readonly links: Pick<LinkConfig, 'mode' | 'ttlMs'>;
  /** The blob store, for presigned URLs (LINK_MODE=presigned). */
  readonly blobs?: Pick<BlobStore, 'presignGet'> | undefined;
  /** The clock links expire by, ms (tests). */
  readonly now?: (() => number) | undefined;
}

export function createMessageLinks(options: MessageLinkOptions): MessageLinks {
  const { publicUrl, signer } = options;
  const now = options.now ?? Date.now;
  const url = (path: string): string | undefined => (publicUrl === undefined ? undefined : `${publicUrl}${signer ? signer.sign(path, now()) : path}`);
  const presign = options.links.mode === 'presigned' ? options.blobs?.presignGet?.bind(options.blobs) : undefined;
  // S3 refuses a presigned URL that lives longer than 7 days.
  const presignSeconds = Math.floor(Math.min(options.links.ttlMs, S3_PRESIGN_MAX_MS) / 1000);
  return {
    page: (fileId) => url(linkPaths.page(fileId)),
    chart: (owner, date) => url(linkPaths.chart(owner, date)),
    thumbnail: async (file) => (presign ? presign(file.thumbnailKey, presignSeconds) : url(linkPaths.thumbnail(file.id))),
    original: async (file) => (presign ? presign(file.blobKey, presignSeconds) : url(linkPaths.original(file.id))),
  };
}

/**
 * The service's message links: PUBLIC_URL, LINK_MODE and LINK_TTL from the config, signed with
 * `signer` when a key is configured (LINK_SIGNING_SECRET or API_TOKEN), else unsigned.
 */
export function messageLinksFor(config: Pick<Config, 'publicUrl' | 'links'>, signer: LinkSigner, blobs: Pick<BlobStore, 'presignGet'>): MessageLinks {
  return createMessageLinks({ publicUrl: config.publicUrl, signer: config.links.secret === undefined ? undefined : signer, links: config.links, blobs });
}

/** Links for where no message carries any (tests, tools): every one undefined. */
export const NO_LINKS: MessageLinks = createMessageLinks({ publicUrl: undefined, signer: undefined, links: { mode: 'signed', ttlMs: 0 } });
