import { randomInt } from 'node:crypto';

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import type { Owner } from '../store/owner-types.js';
import type { Store } from '../store/types.js';
import { isValidTimeZone } from '../timezone.js';
import { OWNER } from './files.js';
import { notFound, parse } from './validate.js';

const LINK_CODE_TTL_MS = 15 * 60_000;
const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)');
const EVENTS = ['file.completed', 'file.failed', 'file.stuck', 'job.failed', 'summary.daily', 'quota.warning', 'quota.exceeded'] as const;

const OwnerBody = z
  .object({
    email: z.email().max(254).nullable().optional(),
    lineUserId: z.string().regex(/^U[0-9a-f]{32}$/, 'must be a LINE user id: U followed by 32 hex digits').nullable().optional(),
    quotaBytes: z.number().int().min(0).nullable().optional(),
    timezone: z.string().refine(isValidTimeZone, 'must be an IANA timezone such as Asia/Tokyo').optional(),
    quietHours: z.object({ start: HHMM, end: HHMM }).strict().nullable().optional(),
    events: z.array(z.enum(EVENTS)).nullable().optional(),
  })
  .strict();

export function presentOwner(o: Owner) {
  return {
    id: o.id,
    email: o.email,
    lineUserId: o.lineUserId,
    lineFollowing: o.lineFollowing,
    quotaBytes: o.quotaBytes,
    timezone: o.timezone,
    quietHours: o.quietHours,
    events: o.events,
    createdAt: o.createdAt.toISOString(),
    updatedAt: o.updatedAt.toISOString(),
  };
}

export function ownerRoutes(app: FastifyInstance, deps: { store: Store }): void {
  const { store } = deps;
  const params = z.object({ id: OWNER });

  app.put('/owners/:id', async (request) => {
    const { id } = parse(params, request.params);
    const body = parse(OwnerBody, request.body ?? {});
    return presentOwner(await store.owners.upsert(id, body));
  });

  app.get('/owners/:id', async (request) => {
    const { id } = parse(params, request.params);
    const owner = await store.owners.get(id);
    if (!owner) throw notFound('owner', id);
    return presentOwner(owner);
  });

  app.post('/owners/:id/line-link', async (request, reply) => {
    const { id } = parse(params, request.params);
    if (!(await store.owners.get(id))) throw notFound('owner', id);
    // Eight digits: easy to type into LINE, and a code lives only 15 minutes and works once.
    const code = String(randomInt(10_000_000, 100_000_000));
    const expiresAt = new Date(Date.now() + LINK_CODE_TTL_MS);
    await store.owners.createLinkCode(id, code, expiresAt);
    return reply.code(201).send({ code, expiresAt: expiresAt.toISOString(), instructions: `Send "${code}" to the nightshift LINE bot within 15 minutes.` });
  });
}
