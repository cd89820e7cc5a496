/**
 * Notification latency: from a file's completion (its completedAt) to the message being
 * accepted by a local SMTP server and a local LINE API server, p50/p99 over N files; and the
 * time from 100 failures inside one digest window to the single digest message.
 * Usage: node dist/bench/notify.js [files=100]
 */
import { createTempDir } from '../test/helpers/env.js';
import { startLineServer } from '../test/helpers/line-server.js';
import { startTestService, upload, waitForFinal } from '../test/helpers/service.js';
import { startSmtpServer } from '../test/helpers/smtp-server.js';

const N = Number(process.argv[2] ?? 100);
const LINE_USER = `U${'d'.repeat(32)}`;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

const smtp = await startSmtpServer();
const line = await startLineServer();
// Stamp arrivals as the servers record them (5 ms resolution).
const mailAt = new Map<string, number>();
const lineAt = new Map<string, number>();
const stamp = setInterval(() => {
  for (const m of smtp.mails) if (m.parsed.subject && !mailAt.has(m.parsed.subject)) mailAt.set(m.parsed.subject, Date.now());
  for (const d of line.deliveries) {
    const alt = String(
      (d.messages[0] as { altText?: string; text?: string } | undefined)?.altText ?? (d.messages[0] as { text?: string } | undefined)?.text ?? '',
    );
    const key = alt.split('\n')[0] ?? alt;
    if (!lineAt.has(key)) lineAt.set(key, Date.now());
  }
}, 5);

const tmp = await createTempDir('ns-bench-');
const windowMs = 5_000;
const svc = await startTestService({
  DATA_DIR: tmp.dir,
  POLL_INTERVAL_MS: '1000',
  SMTP_URL: smtp.url,
  MAIL_FROM: 'bench@example.test',
  // Latency, not the limiter: the default 5 mails/s would pace a 100-file burst to 20 s by design.
  SMTP_RATE_PER_SECOND: process.env.SMTP_RATE_PER_SECOND ?? '200',
  LINE_CHANNEL_ACCESS_TOKEN: line.token,
  LINE_API_BASE_URL: line.url,
  PUBLIC_URL: 'https://nightshift.bench',
  NOTIFY_RULES: JSON.stringify({ 'file.failed': { windowMs } }),
  NOTIFY_ADMINS: '',
});
try {
  const put = (id: string, body: unknown) =>
    fetch(`${svc.url}/api/v1/owners/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await put('bench', { email: 'bench@example.test', lineUserId: LINE_USER });

  const files = [];
  for (let i = 0; i < N; i++) files.push((await upload(svc.url, Buffer.from(`note ${i}\n`), `note-${i}.txt`, { owner: 'bench' })).body.id);
  const mailLat: number[] = [];
  const lineLat: number[] = [];
  const deadline = Date.now() + 120_000;
  for (const [i, id] of files.entries()) {
    const f = (await waitForFinal(svc.url, id)) as unknown as { completedAt: string };
    const done = Date.parse(f.completedAt);
    const title = `note-${i}.txt is ready`;
    while ((!mailAt.has(title) || !lineAt.has(title)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    mailLat.push((mailAt.get(title) ?? NaN) - done);
    lineLat.push((lineAt.get(title) ?? NaN) - done);
  }
  console.log(
    `completion → accepted, over ${N} files: SMTP p50 ${pct(mailLat, 50)} ms, p99 ${pct(mailLat, 99)} ms; LINE p50 ${pct(lineLat, 50)} ms, p99 ${pct(lineLat, 99)} ms`,
  );

  await put('digest', { email: 'digest@example.test' });
  const failed = [];
  for (let i = 0; i < 100; i++) failed.push((await upload(svc.url, Buffer.alloc(0), `broken-${i}.png`, { owner: 'digest' })).body.id);
  let lastFailure = 0;
  let firstFailure = Infinity;
  for (const id of failed) {
    const t = Date.parse(((await waitForFinal(svc.url, id)) as unknown as { completedAt: string }).completedAt);
    lastFailure = Math.max(lastFailure, t);
    firstFailure = Math.min(firstFailure, t);
  }
  const digestSubject = '99 more files failed';
  const until = Date.now() + windowMs + 30_000;
  while (!mailAt.has(digestSubject) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  const toDigest = smtp.mails.filter((m) => m.envelope.to.includes('digest@example.test'));
  console.log(
    `100 failures in ${lastFailure - firstFailure} ms → ${toDigest.length} messages (the first at once, then one digest "${digestSubject}"): ` +
      `digest accepted ${(mailAt.get(digestSubject) ?? NaN) - lastFailure} ms after the 100th failure (window ${windowMs} ms from the first message)`,
  );
} finally {
  clearInterval(stamp);
  await svc.stop();
  await smtp.close();
  await line.close();
  await tmp.remove();
}

// Agenda leaves lock-check timers behind after stop; the figures are printed, so end here.
process.exit(0);
