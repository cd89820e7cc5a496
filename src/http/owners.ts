import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import type { NotifierDefinition, OwnerAddresses } from '../notify/notifier.js';
import type { Owner } from '../store/owner-types.js';
import type { Store } from '../store/types.js';
import { isValidTimeZone } from '../timezone.js';
import { OWNER } from './files.js';
import { routeSchema } from './schema.js';
import { notFound, parse } from './validate.js';

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)');
const EVENTS = ['file.completed', 'file.failed', 'file.stuck', 'job.failed', 'summary.daily', 'quota.warning', 'quota.exceeded'] as const;

/**
 * The PUT body. `addresses` has one optional key per channel that keeps owners' addresses in
 * the generic map (from the registry), each checked by its notifier; null removes one.
 */
function ownerBody(definitions: readonly NotifierDefinition[]) {
  const mapped = definitions.filter((d) => d.ownerAddress?.validate !== undefined);
  const addresses = z
    .object(
      Object.fromEntries(
        mapped.map((d) => [
          d.name,
          z
            .string()
            .max(2048)
            .superRefine((v, ctx) => {
              const problem = d.ownerAddress?.validate?.(v);
              if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
            })
            .nullable()
            .optional(),
        ]),
      ),
    )
    .strict();
  return z
    .object({
      email: z.email().max(254).nullable().optional(),
      lineUserId: z
        .string()
        .regex(/^U[0-9a-f]{32}$/, 'must be a LINE user id: U followed by 32 hex digits')
        .nullable()
        .optional(),
      quotaBytes: z.number().int().min(0).nullable().optional(),
      timezone: z.string().refine(isValidTimeZone, 'must be an IANA timezone such as Asia/Tokyo').optional(),
      quietHours: z.object({ start: HHMM, end: HHMM }).strict().nullable().optional(),
      events: z.array(z.enum(EVENTS)).nullable().optional(),
      addresses: addresses.optional(),
    })
    .strict();
}

export function presentOwner(o: Owner, addresses: OwnerAddresses = {}) {
  return {
    id: o.id,
    email: o.email,
    lineUserId: o.lineUserId,
    lineFollowing: o.lineFollowing,
    addresses,
    quotaBytes: o.quotaBytes,
    timezone: o.timezone,
    quietHours: o.quietHours,
    events: o.events,
    createdAt: o.createdAt.toISOString(),
    updatedAt: o.updatedAt.toISOString(),
  };
}

export function ownerRoutes(app: FastifyInstance, deps: { store: Store; notifiers: readonly NotifierDefinition[] }): void {
  const { store } = deps;
  const params = z.object({ id: OWNER });
  const OwnerBody = ownerBody(deps.notifiers);

  app.put('/owners/:id', { schema: routeSchema({ summary: 'Create or update an owner', tags: ['owners'], params, body: OwnerBody }) }, async (request) => {
    const { id } = parse(params, request.params);
    const { addresses, ...patch } = parse(OwnerBody, request.body ?? {});
    let owner = await store.owners.upsert(id, patch);
    if (addresses !== undefined && Object.keys(addresses).length > 0) {
      await store.owners.setAddresses(id, addresses as Record<string, string | null>);
      owner = (await store.owners.get(id)) ?? owner;
    }
    return presentOwner(owner, await store.owners.addresses(id));
  });

  app.get('/owners/:id', { schema: routeSchema({ summary: 'One owner', tags: ['owners'], params }) }, async (request) => {
    const { id } = parse(params, request.params);
    const owner = await store.owners.get(id);
    if (!owner) throw notFound('owner', id);
    return presentOwner(owner, await store.owners.addresses(id));
  });
}
