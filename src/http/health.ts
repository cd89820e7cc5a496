import { statfs } from 'node:fs/promises';

import type { FastifyInstance } from 'fastify';

import type { BlobStore } from '../blobs/types.js';
import type { FaultMonitor } from '../faults.js';
import type { Store } from '../store/types.js';
import { routeSchema } from './schema.js';

export interface HealthDeps {
  readonly store: Store;
  readonly blobs: BlobStore;
  /** Disk-full and store-down state seen by requests and the engine. */
  readonly faults?: FaultMonitor | undefined;
  /** Directories whose free space /readyz checks: DATA_DIR and the local blob directory. */
  readonly disks?: readonly string[] | undefined;
  /** Less free space than this (bytes) is not ready. */
  readonly minFreeBytes?: number | undefined;
}

/** The first directory with less than minFree bytes free, and what it has; undefined if none. */
export async function lowDisk(dirs: readonly string[], minFree: number): Promise<{ path: string; freeBytes: number } | undefined> {
  for (const path of new Set(dirs)) {
    try {
      const s = await statfs(path);
      const freeBytes = s.bavail * s.bsize;
      if (freeBytes < minFree) return { path, freeBytes };
    } catch {
      // A directory that cannot be inspected is the store's or blobs' check to report.
    }
  }
  return undefined;
}

export function healthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  app.get('/healthz', { schema: routeSchema({ summary: 'Liveness', tags: ['health'] }) }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: routeSchema({ summary: 'Readiness: store, blobs, disk', tags: ['health'] }) }, async (_request, reply) => {
    const [checks, low] = await Promise.all([Promise.allSettled([deps.store.ping(), deps.blobs.ping()]), lowDisk(deps.disks ?? [], deps.minFreeBytes ?? 0)]);
    const [store, blobs] = checks.map((c) => (c.status === 'fulfilled' ? 'ok' : String(c.reason instanceof Error ? c.reason.message : c.reason)));
    const full = deps.faults?.diskFull();
    const disk = low
      ? `full: ${low.path} has ${low.freeBytes} bytes free, under MIN_FREE_BYTES=${deps.minFreeBytes}`
      : full
        ? `full: ${full.path ?? 'a write'} failed for lack of space (${full.reason})`
        : 'ok';
    const ready = checks.every((c) => c.status === 'fulfilled') && disk === 'ok';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', store, blobs, disk });
  });
}
