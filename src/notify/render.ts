import { formatBytes } from '../format.js';
import type { EventPayloads, FileEventPayload, QuotaPayload } from './events.js';
import type { MessageLinks } from './links.js';
import type { Message, MessageItem, NotifyEvent } from './notifier.js';

/** A message before it has its idempotency id (given per recipient by the hub). */
export type Draft = Omit<Message, 'id'>;

const https = (u: string | undefined) => (u && u.startsWith('https://') ? u : undefined);

export interface RenderContext {
  /** Every link a message carries comes from here, signed (undefined ones are left out). */
  readonly links: MessageLinks;
}

function fileLink(ctx: RenderContext, fileId: string): string | undefined {
  return ctx.links.page(fileId);
}

/** The named links of a message, without the absent ones; undefined when there is none. */
function namedLinks(links: Record<string, string | undefined>): Record<string, string> | undefined {
  const present = Object.entries(links).filter((e): e is [string, string] => e[1] !== undefined);
  return present.length > 0 ? Object.fromEntries(present) : undefined;
}

/** The item a file event contributes to a digest. */
export function fileItem(p: FileEventPayload, ctx: RenderContext): MessageItem {
  return { title: p.filename, status: p.status, detail: p.error ?? undefined, imageUrl: https(p.thumbnailUrl), url: fileLink(ctx, p.fileId) };
}

export function render<E extends NotifyEvent>(event: E, payload: EventPayloads[E], ctx: RenderContext): Draft {
  switch (event) {
    case 'file.completed':
    case 'file.failed': {
      const p = payload as FileEventPayload;
      const ok = p.status === 'completed';
      return {
        event,
        title: ok ? `${p.filename} is ready` : `${p.filename} failed`,
        text: ok ? `${p.filename} was processed.` : `${p.filename} could not be processed: ${p.error ?? 'unknown reason'}`,
        facts: [{ label: 'Status', value: p.status }, ...(p.error ? [{ label: 'Reason', value: p.error }] : []), ...(p.facts ?? [])],
        items: [fileItem(p, ctx)],
        imageUrl: https(p.thumbnailUrl),
        url: fileLink(ctx, p.fileId),
        links: namedLinks({ page: fileLink(ctx, p.fileId), thumbnail: p.thumbnailUrl, original: p.originalUrl }),
        data: { fileId: p.fileId, owner: p.owner, status: p.status, error: p.error },
      };
    }
    case 'file.stuck': {
      const p = payload as EventPayloads['file.stuck'];
      return {
        event,
        title: `${p.filename} is stuck`,
        text: `${p.filename} (${p.fileId}) made no progress in step ${p.step}${p.since ? ` since ${p.since.toISOString()}` : ''} and was marked failed.`,
        facts: [
          { label: 'File', value: p.fileId },
          { label: 'Step', value: p.step },
        ],
        url: fileLink(ctx, p.fileId),
        links: namedLinks({ page: fileLink(ctx, p.fileId) }),
        data: { fileId: p.fileId, owner: p.owner, step: p.step },
      };
    }
    case 'job.failed': {
      const p = payload as EventPayloads['job.failed'];
      return {
        event,
        title: `Job ${p.jobName} failed`,
        text: `Job ${p.jobName} (${p.jobId}) failed after ${p.attempts} attempt(s): ${p.error}`,
        facts: [
          { label: 'Job', value: p.jobName },
          { label: 'Attempts', value: String(p.attempts) },
          { label: 'Error', value: p.error },
        ],
        items: [{ title: p.jobName, status: 'failed', detail: p.error }],
        data: { ...p },
      };
    }
    case 'summary.daily': {
      const p = payload as EventPayloads['summary.daily'];
      return {
        event,
        title: p.title,
        text: p.text,
        html: p.html,
        facts: p.facts,
        items: p.items?.map((i) => ({ title: i.title, detail: i.detail })),
        imageUrl: https(p.chartUrl),
        links: namedLinks({ chart: p.chartUrl }),
        attachments: p.chartPng ? [{ filename: 'chart.png', contentType: 'image/png', content: p.chartPng, cid: 'chart' }] : undefined,
        data: { owner: p.owner, date: p.date, facts: p.facts },
      };
    }
    case 'quota.warning':
    case 'quota.exceeded': {
      const p = payload as QuotaPayload;
      const pct = Math.round((p.usedBytes / p.quotaBytes) * 100);
      const exceeded = event === 'quota.exceeded';
      return {
        event,
        title: exceeded ? `Storage quota exceeded for ${p.owner}` : `Storage ${pct}% used for ${p.owner}`,
        text: exceeded
          ? `${p.owner} uses ${formatBytes(p.usedBytes)} of ${formatBytes(p.quotaBytes)}. New uploads are refused until usage drops below the quota.`
          : `${p.owner} uses ${formatBytes(p.usedBytes)} of ${formatBytes(p.quotaBytes)} (${pct}%, over ${p.threshold}%).`,
        facts: [
          { label: 'Used', value: formatBytes(p.usedBytes) },
          { label: 'Quota', value: formatBytes(p.quotaBytes) },
          { label: 'Usage', value: `${pct}%` },
        ],
        data: { ...p },
      };
    }
    case 'test': {
      const p = payload as EventPayloads['test'];
      return { event, title: 'nightshift test message', text: p.note ?? 'If you can read this, this channel works.' };
    }
  }
  throw new Error(`no renderer for ${String(event)}`);
}

/** One message for a digest's collected items, made when the digest is sent. */
export function renderDigest(event: NotifyEvent, items: readonly MessageItem[]): Draft {
  const n = items.length;
  const what =
    event === 'file.failed'
      ? n === 1
        ? 'file failed'
        : 'files failed'
      : event === 'file.completed'
        ? n === 1
          ? 'file is ready'
          : 'files are ready'
        : `× ${event}`;
  const lines = items.slice(0, 50).map((i) => `- ${i.title}${i.detail ? `: ${i.detail}` : ''}`);
  if (n > 50) lines.push(`… and ${n - 50} more`);
  return {
    event,
    title: `${n} more ${what}`,
    text: lines.join('\n'),
    facts: [{ label: 'Count', value: String(n) }],
    items,
    data: { digest: true, count: n },
  };
}

/** Messages are stored as JSON in the outbox: attachments travel as base64. */
export function messageToJson(m: Draft): Record<string, unknown> {
  return { ...m, attachments: m.attachments?.map((a) => ({ ...a, content: a.content.toString('base64') })) };
}

export function messageFromJson(id: string, json: Record<string, unknown>): Message {
  const atts = json.attachments as Array<{ filename: string; contentType: string; content: string; cid?: string }> | undefined;
  return { ...(json as unknown as Draft), id, attachments: atts?.map((a) => ({ ...a, content: Buffer.from(a.content, 'base64') })) };
}
