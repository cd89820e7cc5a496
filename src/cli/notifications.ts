import type { Command } from 'commander';

import { presentNotification } from '../http/notifications.js';
import type { ChannelName } from '../notify/notifier.js';
import type { NotificationStatus } from '../store/outbox-types.js';
import { Exit, UsageError, withContext } from './context.js';
import { type OutputOptions, printJson, printLine, printTable, progressBar } from './output.js';

const STATUSES: readonly NotificationStatus[] = ['queued', 'sent', 'failed', 'dead'];

/** notifications list|retry, notify test. */
export function notificationVerbs(program: Command): void {
  const notifications = program.command('notifications').description('the delivery log: list, retry dead ones');
  notifications
    .command('list')
    .description('newest first')
    .option('--status <status>', STATUSES.join('|'))
    .option('--channel <channel>', 'only this channel')
    .option('--owner <owner>', 'only this owner')
    .option('--event <event>', 'only this event')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'machine-readable output')
    .action((opts: OutputOptions & { status?: string; channel?: string; owner?: string; event?: string; limit: string }) =>
      withContext(async ({ store }) => {
        if (opts.status !== undefined && !STATUSES.includes(opts.status as NotificationStatus))
          throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`);
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError('--limit must be a whole number from 1 to 500');
        const page = await store.outbox.list({
          status: opts.status as NotificationStatus | undefined,
          channel: opts.channel,
          owner: opts.owner,
          event: opts.event,
          limit,
        });
        if (opts.json) return printJson(page.items.map(presentNotification));
        printTable(
          ['id', 'event', 'channel', 'recipient', 'status', 'attempts', 'last error'],
          page.items.map((n) => [n.id, n.event, n.channel, n.recipient, n.status, n.attempts, n.lastError]),
        );
      }),
    );
  notifications
    .command('retry [ids...]')
    .description('send dead notifications again: by id, or --all-dead (narrowed by --channel/--owner/--event)')
    .option('--all-dead', 'every dead notification (matching the filters)')
    .option('--channel <channel>', 'with --all-dead: only this channel')
    .option('--owner <owner>', 'with --all-dead: only this owner')
    .option('--event <event>', 'with --all-dead: only this event')
    .option('--json', 'machine-readable output')
    .action((ids: string[], opts: OutputOptions & { allDead?: boolean; channel?: string; owner?: string; event?: string }) =>
      withContext(async ({ ops }) => {
        if (Boolean(opts.allDead) === ids.length > 0) throw new UsageError('give notification ids or --all-dead, not both and not neither');
        let count = 0;
        let code: number = Exit.OK;
        if (opts.allDead) {
          const bar = progressBar(opts, 'retrying');
          count = await ops.retryDead({ channel: opts.channel, owner: opts.owner, event: opts.event }, bar.update);
          bar.stop();
        } else {
          for (const id of ids) {
            const r = await ops.retryNotification(id);
            if ('retried' in r) count++;
            else {
              process.stderr.write(`nightshift: ${'missing' in r ? `no notification with id ${id}` : `notification ${id} is ${r.notDead.status}, not dead`}\n`);
              code = Exit.FAILED;
            }
          }
        }
        if (opts.json) printJson({ count });
        else printLine(`queued ${count} notifications again`);
        return code;
      }),
    );

  program
    .command('notify')
    .description('notifier tools')
    .command('test <channel> <recipient>')
    .description('send a test message on a channel (e.g. email ops@example.com)')
    .option('--json', 'machine-readable output')
    .action((channel: string, recipient: string, opts: OutputOptions) =>
      withContext(async ({ notify }) => {
        if (!notify.channels.has(channel as ChannelName))
          throw new UsageError(`channel "${channel}" is not configured (configured: ${[...notify.channels].join(', ')})`);
        const n = await notify.sendTest(channel as ChannelName, recipient);
        if (opts.json) return printJson(presentNotification(n));
        printLine(`queued test notification ${n.id} on ${channel} to ${recipient}: a worker delivers it (see: nightshift notifications list)`);
      }),
    );
}
