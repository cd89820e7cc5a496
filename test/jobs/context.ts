/**
 * A minimal JobContext for running a step's `run` directly: real config from loadConfig, a
 * silent logger, and a blob store fixture that writes plain files under a temp directory
 * (the project's real blob stores are tested in their own suite).
 */
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';

import type { BlobInfo, BlobStore, PutOptions } from '../../src/blobs/types.js';
import type { Config } from '../../src/config.js';
import { loadConfig } from '../../src/registry.js';
import type { JobContext } from '../../src/engine/job.js';
import { ErrorCodes, NightshiftError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import type { FileRecord, StepName, Store } from '../../src/store/types.js';

export function dirBlobStore(root: string): BlobStore {
  return {
    kind: 'local',
    async put(key: string, body: Readable | Buffer, options?: PutOptions) {
      options?.signal?.throwIfAborted();
      const data = Buffer.isBuffer(body) ? body : await buffer(body);
      await mkdir(dirname(join(root, key)), { recursive: true });
      await writeFile(join(root, key), data);
      return { size: data.length };
    },
    async get(key: string) {
      try {
        await stat(join(root, key));
      } catch {
        throw new NightshiftError(ErrorCodes.BLOB_NOT_FOUND, `no blob ${key}`);
      }
      return createReadStream(join(root, key));
    },
    async head(key: string): Promise<BlobInfo | null> {
      try {
        const s = await stat(join(root, key));
        return { key, size: s.size, contentType: undefined, lastModified: s.mtime };
      } catch {
        return null;
      }
    },
    async delete(key: string) {
      await rm(join(root, key), { force: true });
    },
    async *list() {},
    async ping() {},
    async close() {},
  };
}

export async function readBlob(root: string, key: string): Promise<Buffer> {
  return readFile(join(root, key));
}

export function testConfig(dataDir: string, env: Record<string, string> = {}): Config {
  return loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env });
}

export function fileRecord(id: string, filename: string, size: number): FileRecord {
  return {
    id,
    owner: null,
    filename,
    contentType: 'application/octet-stream',
    size,
    blobKey: `originals/${id}`,
    status: 'processing',
    error: null,
    uploadedAt: new Date(),
    startedAt: new Date(),
    completedAt: null,
    steps: [],
  };
}

export function stepContext<N extends StepName>(name: N, config: Config, blobs: BlobStore, signal: AbortSignal = new AbortController().signal): JobContext<N> {
  return {
    jobId: `test-${name}`,
    name,
    data: { fileId: 'f1' } as JobContext<N>['data'],
    attempt: 1,
    maxAttempts: 3,
    options: config.jobs[name],
    log: createLogger('silent'),
    signal,
    hardSignal: signal,
    heartbeat: async () => {},
    services: {
      config,
      blobs,
      // A step's run never touches the store (defineStep does): make any use loud.
      store: new Proxy({} as Store, {
        get() {
          throw new Error('the store is not available to a step run in these tests');
        },
      }),
      enqueue: async () => {},
      maintenance: new Proxy({} as JobContext['services']['maintenance'], {
        get() {
          throw new Error('the engine is not available to a step run in these tests');
        },
      }),
      steps: [],
      notify: new Proxy({} as JobContext['services']['notify'], {
        get() {
          throw new Error('notifications are not available to a step run in these tests');
        },
      }),
    },
  };
}
