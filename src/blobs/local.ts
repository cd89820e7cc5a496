import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, type FileHandle, mkdir, open, opendir, readFile, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { ErrorCodes, NightshiftError, toError } from '../errors.js';
import type { Logger } from '../logger.js';
import { blobNotFound, putAborted, storageUnavailable } from './errors.js';
import { assertValidKey, assertValidPrefix, isValidSegment } from './keys.js';
import { lastByteOf } from './read.js';
import type { BlobInfo, BlobStore, GetOptions, PutOptions } from './types.js';

export interface LocalBlobStoreOptions {
  /** Directory holding every blob; created (with parents) if missing. Resolved to an absolute path. */
  readonly dir: string;
  /**
   * fsync each blob and its directory before `put` resolves, so a blob reported written survives a
   * power cut. Default true: originals cannot be regenerated. Turn off for scratch data.
   */
  readonly fsync?: boolean | undefined;
  readonly log?: Logger | undefined;
}

/*
 * Layout: the blob `a/b/c.jpg` is the file `<dir>/a/b/c.jpg`. Its content type, when one was given,
 * sits beside it in `c.jpg~type`; in-flight writes are `c.jpg~<random>.part`. `~` can never occur
 * in a key, so neither can collide with a blob and `list` skips both. Deleting a blob prunes the
 * directories it leaves empty. A file system cannot hold both `a/b` and `a/b/c` (S3 can): the second
 * put is rejected with INVALID_KEY (status 409).
 */
const TYPE_SUFFIX = '~type';
const CONFLICT_CODES = new Set(['ENOTDIR', 'EEXIST', 'EISDIR']);
const MISSING_CODES = new Set(['ENOENT', 'ENOTDIR']);

function errnoCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function tempSuffix(): string {
  return `~${randomBytes(8).toString('hex')}.part`;
}

/**
 * Blobs as files under one directory. A put streams into a temp file beside its target and renames
 * it into place, so readers see the old blob or the new one, never half of one; on error or abort
 * the temp file is removed and an existing blob is left as it was.
 */
export class LocalBlobStore implements BlobStore {
  readonly kind = 'local' as const;
  readonly root: string;
  private readonly fsync: boolean;
  private readonly log: Logger | undefined;

  private constructor(options: LocalBlobStoreOptions) {
    this.root = resolve(options.dir);
    this.fsync = options.fsync ?? true;
    this.log = options.log;
  }

  /** Create the root directory if needed and return a store on it. */
  static async open(options: LocalBlobStoreOptions): Promise<LocalBlobStore> {
    const store = new LocalBlobStore(options);
    await mkdir(store.root, { recursive: true });
    return store;
  }

  /** Absolute path of a key; the containment check backs up key validation in case it ever has a hole. */
  pathOf(key: string): string {
    assertValidKey(key);
    const path = resolve(this.root, ...key.split('/'));
    if (!path.startsWith(this.root + sep)) {
      throw new NightshiftError(ErrorCodes.INVALID_KEY, `blob key ${JSON.stringify(key)} resolves outside the storage directory`, { status: 400 });
    }
    return path;
  }

  async put(key: string, body: Readable | Buffer, options: PutOptions = {}): Promise<{ size: number }> {
    const target = this.pathOf(key);
    const { signal } = options;
    if (signal?.aborted) throw putAborted(key, signal.reason);
    const tmp = target + tempSuffix();
    let size: number;
    try {
      const handle = await this.createTemp(tmp);
      // The stream owns the handle from here: it syncs (flush) and closes it on finish or destroy.
      const out = handle.createWriteStream({ flush: this.fsync });
      await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, out, signal ? { signal } : {});
      size = out.bytesWritten;
      // The last moment an abort can still undo the write; after the rename the blob is committed.
      if (signal?.aborted) throw putAborted(key, signal.reason);
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw this.putError(key, err, signal);
    }
    await this.writeType(target, options.contentType);
    if (this.fsync) await this.syncDir(dirname(target));
    return { size };
  }

  async get(key: string, options?: GetOptions): Promise<Readable> {
    const path = this.pathOf(key);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if (MISSING_CODES.has(errnoCode(err) ?? '')) throw blobNotFound(key);
      throw err;
    }
    // open() succeeds on a directory; a directory is not a blob.
    const info = await handle.stat();
    if (info.isDirectory()) {
      await handle.close();
      throw blobNotFound(key);
    }
    if (options?.firstBytes !== undefined) {
      const end = lastByteOf(options.firstBytes);
      return handle.createReadStream({ start: 0, end, highWaterMark: end + 1 });
    }
    // An original is read whole by each step: in one or a few reads rather than 64 KiB ones.
    return handle.createReadStream({ highWaterMark: Math.min(Math.max(info.size, 64 * 1024), 4 * 1024 * 1024) });
  }

  async head(key: string): Promise<BlobInfo | null> {
    const path = this.pathOf(key);
    try {
      const st = await stat(path);
      if (!st.isFile()) return null;
      return { key, size: st.size, contentType: await this.readType(path), lastModified: st.mtime };
    } catch (err) {
      if (MISSING_CODES.has(errnoCode(err) ?? '')) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (err) {
      const code = errnoCode(err);
      // EISDIR/EPERM: the key names a directory of other blobs, so there is no blob to remove.
      if (!MISSING_CODES.has(code ?? '') && code !== 'EISDIR' && code !== 'EPERM') throw err;
    }
    await rm(path + TYPE_SUFFIX, { force: true });
    await this.pruneEmptyDirs(dirname(path));
  }

  /**
   * Blobs under prefix. contentType is always undefined here (as on S3, where a listing does not
   * carry it); call head() for it.
   */
  async *list(prefix: string): AsyncIterable<BlobInfo> {
    assertValidPrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash === -1 ? '' : prefix.slice(0, slash);
    yield* this.walk(dirKey === '' ? this.root : this.pathOf(dirKey), dirKey, prefix);
  }

  async ping(): Promise<void> {
    try {
      if (!(await stat(this.root)).isDirectory()) throw new Error(`${this.root} is not a directory`);
      await access(this.root, constants.R_OK | constants.W_OK);
    } catch (err) {
      throw storageUnavailable(`blob directory ${this.root}`, err);
    }
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }

  private async *walk(dir: string, dirKey: string, prefix: string): AsyncGenerator<BlobInfo> {
    let entries;
    try {
      entries = await opendir(dir);
    } catch (err) {
      if (MISSING_CODES.has(errnoCode(err) ?? '')) return;
      throw err;
    }
    for await (const entry of entries) {
      if (!isValidSegment(entry.name)) continue;
      const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
      if (entry.isDirectory()) {
        if ((key + '/').startsWith(prefix)) yield* this.walk(`${dir}${sep}${entry.name}`, key, prefix);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        try {
          const st = await stat(`${dir}${sep}${entry.name}`);
          yield { key, size: st.size, contentType: undefined, lastModified: st.mtime };
        } catch (err) {
          // Deleted between readdir and stat: it is simply no longer there.
          if (!MISSING_CODES.has(errnoCode(err) ?? '')) throw err;
        }
      }
    }
  }

  private async createTemp(tmp: string): Promise<FileHandle> {
    // A concurrent delete may prune the directory between mkdir and open; trying again is enough.
    for (let attempt = 1; ; attempt++) {
      await mkdir(dirname(tmp), { recursive: true });
      try {
        return await open(tmp, 'wx', 0o644);
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT' || attempt >= 3) throw err;
      }
    }
  }

  private putError(key: string, err: unknown, signal: AbortSignal | undefined): Error {
    if (err instanceof NightshiftError) return err;
    if (signal?.aborted || (err instanceof Error && err.name === 'AbortError')) return putAborted(key, err);
    if (CONFLICT_CODES.has(errnoCode(err) ?? '')) {
      return new NightshiftError(
        ErrorCodes.INVALID_KEY,
        `blob key ${JSON.stringify(key)} conflicts with an existing blob: local storage cannot hold both "a/b" and "a/b/c"`,
        { status: 409, cause: err },
      );
    }
    return toError(err);
  }

  private async writeType(target: string, contentType: string | undefined): Promise<void> {
    const file = target + TYPE_SUFFIX;
    if (contentType === undefined || contentType === '') {
      await rm(file, { force: true });
      return;
    }
    const tmp = file + tempSuffix();
    try {
      const handle = await open(tmp, 'wx', 0o644);
      try {
        await handle.writeFile(contentType, 'utf8');
        if (this.fsync) await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      // The blob itself is committed; a lost content type only degrades how it is served.
      this.log?.warn({ err, file }, 'could not record blob content type');
    }
  }

  private async readType(path: string): Promise<string | undefined> {
    try {
      const value = await readFile(path + TYPE_SUFFIX, 'utf8');
      return value === '' ? undefined : value;
    } catch (err) {
      if (MISSING_CODES.has(errnoCode(err) ?? '')) return undefined;
      throw err;
    }
  }

  private async syncDir(dir: string): Promise<void> {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  private async pruneEmptyDirs(dir: string): Promise<void> {
    while (dir.startsWith(this.root + sep)) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or already gone): stop climbing
      }
      dir = dirname(dir);
    }
  }
}
