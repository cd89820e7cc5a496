import type { FastifyInstance } from 'fastify';

import type { BlobStore } from '../blobs/types.js';
import type { Store } from '../store/types.js';

export function healthRoutes(app: FastifyInstance, deps: { store: Store; blobs: BlobStore }): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const checks = await Promise.allSettled([deps.store.ping(), deps.blobs.ping()]);
    const [store, blobs] = checks.map((c) => (c.status === 'fulfilled' ? 'ok' : String(c.reason instanceof Error ? c.reason.message : c.reason)));
    const ready = checks.every((c) => c.status === 'fulfilled');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', store, blobs });
  });
}
