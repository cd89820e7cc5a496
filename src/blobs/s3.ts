import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  S3Client,
  type S3ClientConfig,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

import type { S3StorageConfig } from '../config.js';
import { configIssue } from '../config/section.js';
import { ErrorCodes, NightshiftError, toError } from '../errors.js';
import type { Logger } from '../logger.js';
import { blobNotFound, putAborted, storageUnavailable } from './errors.js';
import { assertValidKey, assertValidPrefix, isValidKey } from './keys.js';
import { lastByteOf } from './read.js';
import type { BlobInfo, BlobStore, GetOptions, PutOptions } from './types.js';

export interface S3BlobStoreOptions {
  readonly log?: Logger | undefined;
  /** Bytes per multipart part (minimum 5 MiB, the S3 limit). Streams larger than one part go multipart. Default 5 MiB. */
  readonly partSize?: number | undefined;
  /** Parts uploaded at once per put; memory held is about partSize × queueSize. Default 2. */
  readonly queueSize?: number | undefined;
  /** Give up connecting after this long (ms). Default 5000. */
  readonly connectionTimeoutMs?: number | undefined;
  /** Give up on a request whose socket stays idle this long (ms). Default 60000. */
  readonly requestTimeoutMs?: number | undefined;
  /** SDK attempts per request, first one included. Default 3. */
  readonly maxAttempts?: number | undefined;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;

/** The client settings nightshift uses for a storage config; exported so tests and tools talk to S3 the same way. */
export function s3ClientConfig(config: S3StorageConfig, options: S3BlobStoreOptions = {}): S3ClientConfig {
  if ((config.accessKeyId === undefined) !== (config.secretAccessKey === undefined)) {
    throw configIssue(
      'AWS_ACCESS_KEY_ID',
      'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together (or neither, to use the default AWS credential chain)',
    );
  }
  return {
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    ...(config.accessKeyId !== undefined && config.secretAccessKey !== undefined
      ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } }
      : {}),
    // Since 3.729 the SDK adds CRC32 checksums to every upload by default, which several S3-compatible
    // servers (older MinIO, some hosted ones) reject; AWS S3 and MinIO are fine without them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? 5_000,
      requestTimeout: options.requestTimeoutMs ?? 60_000,
    },
  };
}

function isNotFound(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return false;
  return err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata.httpStatusCode === 404;
}

/**
 * Blobs as objects in one bucket under a key prefix. Puts stream through lib-storage's Upload:
 * one PutObject up to partSize, multipart beyond. An abort (or a failing body) is honoured while
 * the body is still being read: the object is never created and a started multipart upload is
 * aborted. Once every byte has been handed over the put completes, as a local put does after its
 * rename. Content types are stored as the object's Content-Type.
 */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  readonly bucket: string;
  /** Prepended to every key; '' or ending in '/'. */
  readonly prefix: string;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly log: Logger | undefined;

  constructor(config: S3StorageConfig, options: S3BlobStoreOptions = {}) {
    this.client = new S3Client(s3ClientConfig(config, options));
    this.bucket = config.bucket;
    this.prefix = config.prefix;
    this.partSize = Math.max(MIN_PART_SIZE, options.partSize ?? MIN_PART_SIZE);
    this.queueSize = Math.max(1, options.queueSize ?? 2);
    this.log = options.log;
  }

  async put(key: string, body: Readable | Buffer, options: PutOptions = {}): Promise<{ size: number }> {
    assertValidKey(key);
    const { signal } = options;
    if (signal?.aborted) throw putAborted(key, signal.reason);

    let size = 0;
    let source: Readable | Buffer = body;
    let onAbort: (() => void) | undefined;
    let bodyError: unknown;
    if (Buffer.isBuffer(body)) {
      size = body.length;
    } else {
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          size += chunk.length;
          callback(null, chunk);
        },
      });
      // A failing or aborted body destroys the counter; Upload sees that as a read error, waits for
      // its in-flight parts and aborts the multipart upload, so nothing is left in the bucket.
      // (Upload.abort() would instead reject at once while a PutObject may still land.)
      body.once('error', (err: unknown) => {
        bodyError = err;
      });
      pipeline(body, counter).catch(() => undefined);
      onAbort = () => counter.destroy(Object.assign(new Error('put aborted'), { name: 'AbortError' }));
      signal?.addEventListener('abort', onAbort, { once: true });
      source = counter;
    }

    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: this.prefix + key,
        Body: source,
        ...(options.contentType ? { ContentType: options.contentType } : {}),
      },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      if (signal?.aborted || (err instanceof Error && err.name === 'AbortError')) throw putAborted(key, err);
      // When aborting the multipart upload fails too (some S3-compatible servers lack the call), Upload
      // reports that failure; the body's own error is the one that explains what went wrong.
      throw toError(bodyError ?? err);
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
    return { size };
  }

  async get(key: string, options?: GetOptions): Promise<Readable> {
    assertValidKey(key);
    const first = options?.firstBytes;
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, ...(first !== undefined ? { Range: `bytes=0-${lastByteOf(first)}` } : {}) }),
      );
      if (!(res.Body instanceof Readable)) {
        throw new NightshiftError(ErrorCodes.INTERNAL, 'S3 GetObject returned a body that is not a Node.js stream');
      }
      return res.Body;
    } catch (err) {
      if (isNotFound(err)) throw blobNotFound(key, err);
      // S3 answers a range of an empty object 416 (InvalidRange): its first bytes are none. (s3rver
      // drops the connection instead, so the conformance suite does not ask; process-file never does.)
      if (first !== undefined && err instanceof S3ServiceException && err.$metadata.httpStatusCode === 416) return Readable.from([]);
      throw err;
    }
  }

  async head(key: string): Promise<BlobInfo | null> {
    assertValidKey(key);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      return {
        key,
        size: res.ContentLength ?? 0,
        contentType: res.ContentType === '' ? undefined : res.ContentType,
        lastModified: res.LastModified ?? new Date(0),
      };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** contentType is always undefined: a listing does not carry it (call head()). */
  async *list(prefix: string): AsyncIterable<BlobInfo> {
    assertValidPrefix(prefix);
    const pages = paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: this.prefix + prefix });
    for await (const page of pages) {
      for (const object of page.Contents ?? []) {
        const key = object.Key?.slice(this.prefix.length);
        // Objects written by other tools (folder markers "x/", odd names) are not blobs of ours.
        if (key === undefined || !isValidKey(key)) {
          this.log?.debug({ key: object.Key }, 'skipping object whose key is not a valid blob key');
          continue;
        }
        yield { key, size: object.Size ?? 0, contentType: undefined, lastModified: object.LastModified ?? new Date(0) };
      }
    }
  }

  /** A SigV4 presigned GetObject URL; signed locally with the client's credentials (no request). */
  async presignGet(key: string, expiresInSeconds: number): Promise<string> {
    assertValidKey(key);
    const expiresIn = Math.max(1, Math.min(604_800, Math.floor(expiresInSeconds)));
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }), { expiresIn });
  }

  async ping(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      throw storageUnavailable(`S3 bucket ${this.bucket}`, err);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
