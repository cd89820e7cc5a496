import { type ScriptedServer, startScriptedServer } from './scripted-server.js';

/** One message the fake Slack accepted (it passed every check and got 200 "ok"). */
export interface ReceivedSlack {
  readonly path: string;
  readonly body: { text?: string; blocks?: Array<Record<string, unknown>> };
  /** The notification id, read back from the message's context line. */
  readonly id: string | undefined;
  /** The header block's text. */
  readonly title: string | undefined;
}

export interface SlackAnswer {
  readonly status: number;
  readonly retryAfter?: string;
  readonly body: string;
}

export interface TestSlackServer extends ScriptedServer<SlackAnswer> {
  /** `origin` is for SLACK_HOOKS_ORIGIN; webhooks live under /services/…; `answerPath` scripts e.g. a deleted channel (404 channel_not_found). */
  readonly received: ReceivedSlack[];
  /** Requests refused as Slack refuses them (400 invalid_payload / invalid_blocks), with the reason. */
  readonly rejected: string[];
}

const KNOWN_BLOCKS = new Set(['header', 'section', 'image', 'context', 'actions', 'divider', 'rich_text']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkText(t: unknown, max: number, where: string, plainOnly = false): string | undefined {
  if (!isObj(t) || (t.type !== 'plain_text' && t.type !== 'mrkdwn')) return `${where}: text object expected`;
  if (plainOnly && t.type !== 'plain_text') return `${where}: must be plain_text`;
  if (typeof t.text !== 'string' || t.text.length === 0) return `${where}: text must be a non-empty string`;
  if (t.text.length > max) return `${where}: text longer than ${max} (${t.text.length})`;
  return undefined;
}

/** What Slack checks of an incoming-webhook body (Block Kit reference limits); the first problem, or undefined. */
export function validateSlackPayload(body: unknown): string | undefined {
  if (!isObj(body)) return 'body is not a JSON object';
  if (typeof body.text !== 'string' && !Array.isArray(body.blocks)) return 'no text or blocks';
  if (typeof body.text === 'string' && body.text.length > 40_000) return 'text longer than 40000';
  const blocks = (body.blocks ?? []) as unknown[];
  if (!Array.isArray(blocks)) return 'blocks is not an array';
  if (blocks.length > 50) return `${blocks.length} blocks, more than 50`;
  for (const [i, b] of blocks.entries()) {
    const at = `blocks[${i}]`;
    if (!isObj(b) || typeof b.type !== 'string' || !KNOWN_BLOCKS.has(b.type)) return `${at}: unknown block type`;
    let problem: string | undefined;
    switch (b.type) {
      case 'header':
        problem = checkText(b.text, 150, `${at}.header`, true);
        break;
      case 'section': {
        if (b.text === undefined && b.fields === undefined) return `${at}: section needs text or fields`;
        if (b.text !== undefined) problem = checkText(b.text, 3000, `${at}.text`);
        const fields = (b.fields ?? []) as unknown[];
        if (!Array.isArray(fields) || fields.length > 10) return `${at}: more than 10 fields`;
        for (const [j, f] of fields.entries()) problem ??= checkText(f, 2000, `${at}.fields[${j}]`);
        if (b.accessory !== undefined) {
          const a = b.accessory;
          if (!isObj(a) || a.type !== 'image' || typeof a.image_url !== 'string' || typeof a.alt_text !== 'string') return `${at}: bad accessory`;
        }
        break;
      }
      case 'image':
        if (typeof b.image_url !== 'string' || !/^https?:\/\//.test(b.image_url) || b.image_url.length > 3000) return `${at}: bad image_url`;
        if (typeof b.alt_text !== 'string' || b.alt_text.length === 0 || b.alt_text.length > 2000) return `${at}: bad alt_text`;
        break;
      case 'context': {
        const els = b.elements as unknown[];
        if (!Array.isArray(els) || els.length === 0 || els.length > 10) return `${at}: context needs 1-10 elements`;
        for (const [j, e] of els.entries()) problem ??= checkText(e, 3000, `${at}.elements[${j}]`);
        break;
      }
      case 'actions': {
        const els = b.elements as unknown[];
        if (!Array.isArray(els) || els.length === 0 || els.length > 25) return `${at}: actions needs 1-25 elements`;
        for (const [j, e] of els.entries()) {
          if (!isObj(e) || e.type !== 'button') return `${at}.elements[${j}]: unknown element`;
          problem ??= checkText(e.text, 75, `${at}.elements[${j}].text`, true);
          if (typeof e.url === 'string' && e.url.length > 3000) return `${at}.elements[${j}]: url longer than 3000`;
        }
        break;
      }
      default:
        break;
    }
    if (problem) return problem;
  }
  return undefined;
}

function contextId(blocks: ReceivedSlack['body']['blocks']): string | undefined {
  const context = blocks?.find((b) => b.type === 'context') as { elements?: Array<{ text?: string }> } | undefined;
  return /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/.exec(context?.elements?.[0]?.text ?? '')?.[1];
}

/**
 * A fake Slack incoming-webhook endpoint on 127.0.0.1 (random port) that checks each POST the
 * way Slack does (JSON content type, text or blocks, block limits) and answers like Slack:
 * 200 "ok", or 400 "invalid_payload" / "invalid_blocks"; scripted answers for everything else.
 */
export async function startSlackServer(): Promise<TestSlackServer> {
  const received: ReceivedSlack[] = [];
  const rejected: string[] = [];
  const base = await startScriptedServer<SlackAnswer>((req, raw, res, scripted) => {
    const path = req.url ?? '/';
    const reply = (a: SlackAnswer) => {
      res.writeHead(a.status, { 'content-type': 'text/html', ...(a.retryAfter === undefined ? {} : { 'retry-after': a.retryAfter }) });
      res.end(a.body);
    };
    const answer = scripted();
    if (answer) return reply(answer);
    if (req.method !== 'POST' || !path.startsWith('/services/')) return reply({ status: 404, body: 'no_service' });
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
      rejected.push('content-type is not application/json');
      return reply({ status: 400, body: 'invalid_payload' });
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      rejected.push('body is not JSON');
      return reply({ status: 400, body: 'invalid_payload' });
    }
    const problem = validateSlackPayload(body);
    if (problem) {
      rejected.push(problem);
      return reply({ status: 400, body: /blocks/.test(problem) ? 'invalid_blocks' : 'invalid_payload' });
    }
    const b = body as ReceivedSlack['body'];
    const header = b.blocks?.find((x) => x.type === 'header') as { text?: { text?: string } } | undefined;
    received.push({ path, body: b, id: contextId(b.blocks), title: header?.text?.text });
    return reply({ status: 200, body: 'ok' });
  });
  return { ...base, received, rejected };
}
