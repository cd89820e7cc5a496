import { startTestService, upload, waitForFinal } from './service.js';
import { startSmtpServer } from './smtp-server.js';

/** What one SMTP outage did to the mail queued during it. */
export interface OutageReport {
  /** Mails queued while the server refused connections (one file.completed each). */
  readonly queued: number;
  /** Of those, delivered (distinct notification ids at the server). */
  readonly delivered: number;
  /** Rows that ended dead. */
  readonly dead: number;
  /** Mails the server got more than once (by X-Nightshift-Id). */
  readonly duplicates: number;
  /** From the server accepting again to the last queued mail arriving, ms. */
  readonly drainMs: number;
  /**
   * Arrival order against queue order, after the first mail back (the retry that found the
   * server up and released the rest): the largest distance of a mail from its queue position.
   */
  readonly maxDisplacement: number;
  /**
   * Mails that arrived out of queue order: those not in the longest in-order run (the longest
   * increasing subsequence of queue positions, in arrival order).
   */
  readonly outOfOrder: number;
  /** Send attempts per delivered row: the most and the mean. */
  readonly maxAttempts: number;
  readonly meanAttempts: number;
  /** Mail per second while the queue drained (from the second mail back to the last). */
  readonly drainRatePerSecond: number;
}

export interface OutageOptions {
  /** The service's environment besides SMTP (DATA_DIR, retry settings…). */
  readonly env: Record<string, string>;
  /** How long the server refuses connections, ms. */
  readonly outageMs: number;
  /** Files uploaded, evenly spread over the outage: each queues one mail. */
  readonly messages: number;
  /** How long to wait for the queue to drain once the server is back, ms. */
  readonly drainTimeoutMs: number;
  readonly progress?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A real SMTP server that refuses connections (listener closed, connections cut) for
 * `outageMs` while files complete and their owner's mails queue up, then listens again on the
 * same port; counts what arrives. The service runs in this process on the given store.
 */
export async function runSmtpOutage(options: OutageOptions): Promise<OutageReport> {
  const say = options.progress ?? (() => undefined);
  const smtp = await startSmtpServer();
  const svc = await startTestService({ ...options.env, SMTP_URL: smtp.url, MAIL_FROM: 'nightshift@example.test' });
  try {
    const owner = `olga-${Date.now().toString(36)}`;
    const email = `${owner}@example.test`;
    await svc.store.owners.upsert(owner, { email });
    // A mail first, so the transport holds a pooled connection the outage has to cut.
    const warm = await upload(svc.url, Buffer.from('warm-up\n'), 'warm.txt', { owner });
    await waitForFinal(svc.url, warm.body.id);
    await smtp.waitForMails(1, 20_000);

    await smtp.refuse();
    const down = Date.now();
    say(`SMTP refusing connections for ${Math.round(options.outageMs / 1000)} s`);
    const every = options.outageMs / options.messages;
    for (let i = 0; i < options.messages; i++) {
      await sleep(Math.max(0, down + i * every - Date.now()));
      const up = await upload(svc.url, Buffer.from(`note ${i}\n`), `note-${String(i).padStart(3, '0')}.txt`, { owner });
      await waitForFinal(svc.url, up.body.id);
    }
    await sleep(Math.max(0, down + options.outageMs - Date.now()));
    const queuedRows = (await svc.store.outbox.list({ owner, event: 'file.completed', channel: 'email', limit: 500 })).items
      .filter((r) => r.message.title !== 'warm.txt is ready')
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    const sentDuringOutage = queuedRows.filter((r) => r.status === 'sent').length;
    say(`${queuedRows.length} mails queued, ${sentDuringOutage} sent during the outage; SMTP accepting again`);

    await smtp.accept();
    const up = Date.now();
    const queuedIds = queuedRows.map((r) => r.id);
    const arrivedIds = () => smtp.mails.map((m) => String(m.parsed.headers.get('x-nightshift-id') ?? '')).filter((id) => queuedIds.includes(id));
    const arrivalTimes: number[] = [];
    const deadline = up + options.drainTimeoutMs;
    let seen = 0;
    while (new Set(arrivedIds()).size < queuedIds.length && Date.now() < deadline) {
      const n = arrivedIds().length;
      for (; seen < n; seen++) arrivalTimes.push(Date.now());
      await sleep(20);
    }
    const n = arrivedIds().length;
    for (; seen < n; seen++) arrivalTimes.push(Date.now());
    const drainMs = Date.now() - up;
    // A duplicate gets every chance to show up.
    await sleep(3_000);

    const arrived = arrivedIds();
    const distinct = new Set(arrived);
    const rows = await Promise.all(queuedIds.map((id) => svc.store.outbox.get(id)));
    const afterFirst = arrived.slice(1).filter((id, i, all) => all.indexOf(id) === i);
    const rest = queuedIds.filter((id) => afterFirst.includes(id));
    const maxDisplacement = afterFirst.reduce((m, id, i) => Math.max(m, Math.abs(rest.indexOf(id) - i)), 0);
    const positions = arrived.filter((id, i, all) => all.indexOf(id) === i).map((id) => queuedIds.indexOf(id));
    const attempts = rows.filter((r) => r?.status === 'sent').map((r) => r!.attempts);
    const span = (arrivalTimes.at(-1) ?? 0) - (arrivalTimes[1] ?? 0);
    return {
      queued: queuedIds.length,
      delivered: distinct.size,
      dead: rows.filter((r) => r?.status === 'dead').length,
      duplicates: arrived.length - distinct.size,
      drainMs,
      maxDisplacement,
      outOfOrder: positions.length - longestIncreasing(positions),
      maxAttempts: Math.max(0, ...attempts),
      meanAttempts: attempts.length ? Math.round((attempts.reduce((a, b) => a + b, 0) / attempts.length) * 10) / 10 : 0,
      drainRatePerSecond: span > 0 ? Math.round(((arrived.length - 2) / (span / 1000)) * 10) / 10 : 0,
    };
  } finally {
    await svc.stop();
    await smtp.close();
  }
}

/** Length of the longest strictly increasing subsequence (patience sorting). */
function longestIncreasing(xs: readonly number[]): number {
  const tails: number[] = [];
  for (const x of xs) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (tails[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    tails[lo] = x;
  }
  return tails.length;
}
