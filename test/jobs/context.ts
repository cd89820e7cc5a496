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

import { lastByteOf } from '../../src/blobs/read.js';
import type { BlobInfo, BlobStore, GetOptions, PutOptions } from '../../src/blobs/types.js';
import type { Config } from '../../src/config.js';
import type { JobContext } from '../../src/engine/job.js';
import { ErrorCodes, NightshiftError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { loadConfig } from '../../src/registry.js';
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
    async get(key: string, options?: GetOptions) {
      try {
        await stat(join(root, key));
      } catch {
        throw new NightshiftError(ErrorCodes.BLOB_NOT_FOUND, `no blob ${key}`);
      }
      return createReadStream(join(root, key), options?.firstBytes !== undefined ? { start: 0, end: lastByteOf(options.firstBytes) } : {});
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

/**
 * The engine's limits of one attempt, as the engine sets them (src/engine/engine.ts), started
 * when the step first asks for a signal, so a context made before a warm-up run is not spent.
 */
function attemptLimits(name: string, options: { timeoutMs: number; softTimeoutMs: number }): { soft(): AbortSignal; hard(): AbortSignal } {
  let started: { soft: AbortSignal; hard: AbortSignal } | undefined;
  const start = () => {
    if (started) return started;
    const key = `JOB_${name.toUpperCase()}`;
    const hard = AbortSignal.any([timeoutSignal(options.timeoutMs, `${name} took longer than its time limit of ${options.timeoutMs} ms (${key}_TIMEOUT_MS)`)]);
    const soft = options.softTimeoutMs > 0 ? AbortSignal.any([hard, timeoutSignal(options.softTimeoutMs, `${name} passed its soft time limit`)]) : hard;
    return (started = { soft, hard });
  };
  return { soft: () => start().soft, hard: () => start().hard };
}

function timeoutSignal(ms: number, message: string): AbortSignal {
  const c = new AbortController();
  setTimeout(() => c.abort(new NightshiftError(ErrorCodes.STEP_TIMEOUT, message)), ms).unref();
  return c.signal;
}

export function stepContext<N extends StepName>(name: N, config: Config, blobs: BlobStore, signal?: AbortSignal): JobContext<N> {
  const limits = attemptLimits(name, config.jobs[name]);
  return {
    get signal() {
      return signal ?? limits.soft();
    },
    get hardSignal() {
      return signal ?? limits.hard();
    },
    jobId: `test-${name}`,
    name,
    data: { fileId: 'f1' },
    attempt: 1,
    maxAttempts: 3,
    options: config.jobs[name],
    log: createLogger('silent'),
    heartbeat: async () => {},
    // The limits here start with the step's first signal, so holding them has nothing to do.
    clock: { hold() {}, restart() {} },
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
