import { z } from 'zod';

import { defineJob } from '../src/engine/job.js';
import { checkOwnerQuota } from '../src/quota.js';

/** With owner: check that owner only (after an upload); without: every owner. `manual`: run now by an operator. */
const Payload = z.object({ owner: z.string().min(1).max(128).optional(), manual: z.boolean().optional() }).strict();

declare module '../src/engine/payloads.js' {
  interface JobPayloads {
    'quota-check': z.infer<typeof Payload>;
  }
}

/**
 * Storage quota alerts. With `owner` (enqueued after each upload) it checks that owner; without
 * (the schedule) every owner that has a quota. Alerts fire once per crossing of 80, 90 and 100 %.
 */
export default defineJob({
  name: 'quota-check',
  description: 'storage quota alerts at 80, 90 and 100 % (after each upload, and for every owner on its schedule)',
  payload: Payload,
  defaults: { concurrency: 2, attempts: 3, backoffMs: 5_000, timeoutMs: 5 * 60_000 },
  schedule: { every: '*/15 * * * *', description: 'every 15 minutes' },
  async handler(ctx) {
    const { store } = ctx.services;
    if (ctx.data.owner !== undefined) {
      const r = await checkOwnerQuota(ctx.services, ctx.data.owner, undefined, ctx.log);
      return { owners: 1, checked: 1, alerted: r.alerted === null ? 0 : 1 };
    }
    const [owners, usage] = await Promise.all([store.owners.list(), store.reports.usageByOwner()]);
    let checked = 0;
    let alerted = 0;
    for (const owner of owners) {
      ctx.signal.throwIfAborted();
      // Owners without a quota and nothing fired have nothing to check.
      if (owner.quotaBytes === null && owner.quotaAlerts.length === 0) continue;
      const r = await checkOwnerQuota(ctx.services, owner.id, usage.get(owner.id) ?? 0, ctx.log);
      checked++;
      if (r.alerted !== null) alerted++;
    }
    ctx.log.info({ owners: owners.length, checked, alerted }, 'quota check run');
    return { owners: owners.length, checked, alerted };
  },
});
