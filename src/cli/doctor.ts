import type { Command } from 'commander';

import { createBlobStore } from '../blobs/index.js';
import type { Config } from '../config.js';
import { issuesOf } from '../config/section.js';
import { toError } from '../errors.js';
import { createLogger } from '../logger.js';
import { loadConfig } from '../registry.js';
import { createStore } from '../store/index.js';
import { Exit } from './context.js';
import { type OutputOptions, printJson, printLine, printTable } from './output.js';

export interface Check {
  /** What was checked: config, store, blobs, smtp, line, webhook:<name>, slack:<name>. */
  readonly check: string;
  /** The config key to fix when it fails. */
  readonly key: string;
  readonly ok: boolean;
  readonly detail: string;
}

type Env = Readonly<Record<string, string | undefined>>;

const msOf = (env: Env, key: string, fallback: number) => {
  const n = Number(env[key]);
  return Number.isFinite(n) && n > 0 ? n : fallback;
};

async function probe(check: string, key: string, run: () => Promise<string>): Promise<Check> {
  try {
    return { check, key, ok: true, detail: await run() };
  } catch (err) {
    const e = toError(err);
    const cause = e.cause instanceof Error ? ` (${e.cause.message})` : '';
    return { check, key, ok: false, detail: `${e.message}${cause}` };
  }
}

/** Any HTTP answer means the URL is reachable (a webhook may well refuse a HEAD). */
async function reachable(url: string, timeoutMs: number): Promise<string> {
  const res = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  return `reachable (HTTP ${res.status})`;
}

/** `name=url,other=url` lists (WEBHOOK_URLS, SLACK_WEBHOOKS). */
const namedUrls = (raw: string | undefined) =>
  (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => ({ name: s.slice(0, Math.max(0, s.indexOf('='))), url: s.slice(s.indexOf('=') + 1) }));

/**
 * Check the config, then reach every configured part: the store, the blobs, SMTP (the server's
 * greeting and login), LINE (the bot's info with the token), each webhook and Slack URL. Each
 * failure names the config key to fix.
 */
export async function runDoctor(env: Env = process.env): Promise<Check[]> {
  let config: Config;
  try {
    config = loadConfig(env, 'api');
  } catch (err) {
    return issuesOf(err).map((i) => ({ check: 'config', key: i.key, ok: false, detail: i.message }));
  }
  const log = createLogger('silent');
  const checks: Check[] = [{ check: 'config', key: '(all)', ok: true, detail: 'valid' }];
  const dbKey = config.database.kind === 'sqlite' && env.DATABASE_URL === undefined ? 'DATA_DIR' : 'DATABASE_URL';
  checks.push(
    await probe('store', dbKey, async () => {
      const store = await createStore(config.database, { log });
      try {
        await store.ping();
        return `${config.database.kind} answers`;
      } finally {
        await store.close();
      }
    }),
  );
  checks.push(
    await probe('blobs', config.storage.kind === 's3' ? 'STORAGE_URL' : env.STORAGE_URL ? 'STORAGE_URL' : 'DATA_DIR', async () => {
      const blobs = await createBlobStore(config.storage, { log });
      try {
        await blobs.ping();
        return `${config.storage.kind} answers`;
      } finally {
        await blobs.close();
      }
    }),
  );
  const smtp = env.SMTP_URL?.trim();
  if (smtp) {
    checks.push(
      await probe('smtp', 'SMTP_URL', async () => {
        const timeout = msOf(env, 'SMTP_TIMEOUT_MS', 10_000);
        const { default: nodemailer } = await import('nodemailer');
        const transport = nodemailer.createTransport({ url: smtp, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout });
        try {
          await transport.verify();
          return 'the server accepted the connection (and login)';
        } finally {
          transport.close();
        }
      }),
    );
  }
  const lineToken = env.LINE_CHANNEL_ACCESS_TOKEN?.trim();
  if (lineToken) {
    const base = (env.LINE_API_BASE_URL?.trim() || 'https://api.line.me').replace(/\/+$/, '');
    const timeoutMs = msOf(env, 'LINE_TIMEOUT_MS', 10_000);
    let res: Response | undefined;
    const reach = await probe('line', 'LINE_API_BASE_URL', async () => {
      res = await fetch(`${base}/v2/bot/info`, { headers: { authorization: `Bearer ${lineToken}` }, signal: AbortSignal.timeout(timeoutMs) });
      return 'reachable';
    });
    if (!reach.ok || !res) checks.push(reach);
    else {
      const answer = res;
      checks.push(
        await probe('line', 'LINE_CHANNEL_ACCESS_TOKEN', async () => {
          if (answer.status === 401 || answer.status === 403) throw new Error(`LINE refused the token (HTTP ${answer.status})`);
          if (!answer.ok) throw new Error(`LINE answered HTTP ${answer.status}`);
          const bot = (await answer.json().catch(() => ({}))) as { displayName?: string };
          return `token accepted${bot.displayName ? ` (bot ${bot.displayName})` : ''}`;
        }),
      );
    }
  }
  for (const { name, url } of namedUrls(env.WEBHOOK_URLS)) {
    checks.push(await probe(`webhook:${name}`, 'WEBHOOK_URLS', () => reachable(url, msOf(env, 'WEBHOOK_TIMEOUT_MS', 10_000))));
  }
  const slack = [
    ...(env.SLACK_WEBHOOK_URL?.trim() ? [{ name: 'default', url: env.SLACK_WEBHOOK_URL.trim(), key: 'SLACK_WEBHOOK_URL' }] : []),
    ...namedUrls(env.SLACK_WEBHOOKS).map((w) => ({ ...w, key: 'SLACK_WEBHOOKS' })),
  ];
  for (const { name, url, key } of slack) checks.push(await probe(`slack:${name}`, key, () => reachable(url, msOf(env, 'SLACK_TIMEOUT_MS', 10_000))));
  return checks;
}

/** doctor and migrate. */
export function setupVerbs(program: Command): void {
  program
    .command('doctor')
    .description('check the config and reach every configured part; exit 3 naming the key of whatever fails')
    .option('--json', 'machine-readable output')
    .action(async (opts: OutputOptions) => {
      const checks = await runDoctor();
      const failed = checks.filter((c) => !c.ok);
      if (opts.json) printJson(checks);
      else {
        printTable(
          ['check', 'key', 'result', 'detail'],
          checks.map((c) => [c.check, c.key, c.ok ? 'ok' : 'FAIL', c.detail]),
        );
        printLine(failed.length === 0 ? 'all good' : `problems: ${failed.map((c) => c.key).join(', ')}`);
      }
      process.exit(failed.length === 0 ? Exit.OK : Exit.PROBLEMS);
    });
}
