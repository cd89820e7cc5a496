import type { Command } from 'commander';

import { presentFile } from '../http/present.js';
import type { FileStatus } from '../store/types.js';
import { FILE_STATUSES } from '../store/types.js';
import { Exit, UsageError, withContext } from './context.js';
import { type OutputOptions, printJson, printLine, printTable, progressBar } from './output.js';

const status = (s: string | undefined): FileStatus | undefined => {
  if (s === undefined) return undefined;
  if (!FILE_STATUSES.includes(s as FileStatus)) throw new UsageError(`--status must be one of ${FILE_STATUSES.join(', ')}`);
  return s as FileStatus;
};
const date = (s: string | undefined, key: string): Date | undefined => {
  if (s === undefined) return undefined;
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) throw new UsageError(`${key} must be a date (e.g. 2025-01-31 or 2025-01-31T09:00:00Z)`);
  return d;
};

/** files list|show|reprocess. */
export function fileVerbs(program: Command): void {
  const files = program.command('files').description('list, show and reprocess files');
  files
    .command('list')
    .description('newest first')
    .option('--status <status>', FILE_STATUSES.join('|'))
    .option('--owner <owner>', 'only this owner')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'machine-readable output')
    .action((opts: OutputOptions & { status?: string; owner?: string; limit: string }) =>
      withContext(async ({ store, config }) => {
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError('--limit must be a whole number from 1 to 500');
        const page = await store.listFiles({ status: status(opts.status), owner: opts.owner, limit });
        if (opts.json) return printJson(page.items.map((f) => presentFile(f, config.publicUrl)));
        printTable(
          ['id', 'owner', 'filename', 'status', 'uploaded', 'error'],
          page.items.map((f) => [f.id, f.owner, f.filename, f.status, f.uploadedAt, f.error]),
        );
      }),
    );
  files
    .command('show <id>')
    .description('one file with its steps')
    .option('--json', 'machine-readable output')
    .action((id: string, opts: OutputOptions) =>
      withContext(async ({ store, config }) => {
        const file = await store.getFile(id);
        if (!file) {
          process.stderr.write(`nightshift: no file with id ${id}\n`);
          return Exit.FAILED;
        }
        if (opts.json) return printJson(presentFile(file, config.publicUrl));
        printLine(
          `${file.id}  ${file.filename}  ${file.status}${file.error ? `  (${file.error})` : ''}  owner ${file.owner ?? '-'}  uploaded ${file.uploadedAt.toISOString()}`,
        );
        printTable(
          ['step', 'status', 'attempts', 'ms', 'error'],
          file.steps.map((s) => [s.name, s.status, s.attempts, s.durationMs, s.error]),
        );
      }),
    );
  files
    .command('reprocess [ids...]')
    .description('run files again: by id, or every file matching --status/--owner/--step/--uploaded-*')
    .option('--status <status>', FILE_STATUSES.join('|'))
    .option('--owner <owner>', 'only this owner')
    .option('--step <step>', 'only files whose step failed')
    .option('--uploaded-before <date>', 'uploaded before this time')
    .option('--uploaded-after <date>', 'uploaded at or after this time')
    .option('--json', 'machine-readable output')
    .action((ids: string[], opts: OutputOptions & { status?: string; owner?: string; step?: string; uploadedBefore?: string; uploadedAfter?: string }) =>
      withContext(async ({ store, engine, ops }) => {
        const filter = {
          status: status(opts.status),
          owner: opts.owner,
          failedStep: opts.step,
          uploadedBefore: date(opts.uploadedBefore, '--uploaded-before'),
          uploadedAfter: date(opts.uploadedAfter, '--uploaded-after'),
        };
        const byFilter = Object.values(filter).some((v) => v !== undefined);
        if (byFilter === ids.length > 0)
          throw new UsageError('give file ids, or a filter (--status, --owner, --step, --uploaded-before, --uploaded-after), not both and not neither');
        let count: number;
        if (byFilter) {
          const bar = progressBar(opts, 'reprocessing');
          count = await ops.reprocess(filter, bar.update);
          bar.stop();
        } else {
          const reset = await store.resetManyForReprocess(ids);
          count = await engine.enqueueMany(
            'process-file',
            reset.map((fileId) => ({ fileId })),
          );
          const skipped = ids.filter((id) => !reset.includes(id));
          if (skipped.length > 0) process.stderr.write(`nightshift: skipped (missing or being processed): ${skipped.join(', ')}\n`);
        }
        if (opts.json) return printJson({ count });
        printLine(`reprocessing ${count} files`);
      }),
    );
}
