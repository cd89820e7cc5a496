import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { ErrorCodes } from '../../src/errors.js';
import { linkPaths, signerFor, verifyRequestUrl } from '../../src/links.js';
import { photoLike } from '../fixtures/images.js';
import { createTempDir } from '../helpers/env.js';
import { type LineTestServer, startLineServer } from '../helpers/line-server.js';
import { startTestService, upload, waitForFinal } from '../helpers/service.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { until } from './notify-suite.js';

/**
 * Issue 11's "done": with API_TOKEN and an https PUBLIC_URL, the links in the messages LINE and
 * email carry open without the token, and only as signed, only until LINK_TTL.
 */
const TOKEN = 'links-test-token-0123456789';
const PUBLIC = 'https://nightshift.example';
const ALICE_LINE = `U${'c'.repeat(32)}`;
const TTL_SECONDS = 8;

type Started = Awaited<ReturnType<typeof startTestService>>;

describe('signed links in messages (API_TOKEN, https PUBLIC_URL, LINE and email)', { timeout: 180_000 }, () => {
  let line: LineTestServer;
  let smtp: TestSmtpServer;
  let svc: Started;
  let tmp: Awaited<ReturnType<typeof createTempDir>>;
  const auth = { authorization: `Bearer ${TOKEN}` };
  /** The https PUBLIC_URL origin rewritten to the local http server, as a reverse proxy would route it. */
  const local = (url: string) => {
    assert.ok(url.startsWith(`${PUBLIC}/`), url);
    return `${svc.url}${url.slice(PUBLIC.length)}`;
  };
  /** One character of the signature changed. */
  const tamper = (url: string) => url.replace(/sig=(.)/, (_m, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`);
  const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;

  let fileId = '';
  let imageUrl = '';
  let pageUrl = '';

  before(async () => {
    line = await startLineServer();
    smtp = await startSmtpServer();
    tmp = await createTempDir();
    svc = await startTestService({
      DATA_DIR: tmp.dir,
      API_TOKEN: TOKEN,
      PUBLIC_URL: PUBLIC,
      LINK_TTL: `${TTL_SECONDS}s`,
      LINE_CHANNEL_ACCESS_TOKEN: line.token,
      LINE_API_BASE_URL: line.url,
      LINE_TIMEOUT_MS: '2000',
      SMTP_URL: smtp.url,
      MAIL_FROM: 'nightshift@example.test',
      NOTIFY_ADMINS: '',
      OCR_MODE: 'never',
    });
  });
  after(async () => {
    await svc?.stop();
    await Promise.allSettled([line?.close(), smtp?.close()]);
    await tmp?.remove();
  });

  test('the LINE message has a signed image URL and a signed "View details" link', async () => {
    const put = await fetch(`${svc.url}/api/v1/owners/alice`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'alice@example.test', lineUserId: ALICE_LINE }),
    });
    assert.equal(put.status, 200);
    const up = await upload(svc.url, await photoLike(320, 240), 'photo.jpg', { owner: 'alice', contentType: 'image/jpeg', token: TOKEN });
    assert.equal(up.status, 202);
    fileId = up.body.id;
    assert.equal((await waitForFinal(svc.url, fileId, 90_000, TOKEN)).status, 'completed');

    const push = await until('the LINE push to alice', () => line.deliveries.find((d) => d.to === ALICE_LINE), 30_000);
    const flex = push.messages[0] as {
      type: string;
      contents: { hero?: { url: string }; footer?: { contents: Array<{ action: { label: string; uri: string } }> } };
    };
    assert.equal(flex.type, 'flex');
    imageUrl = flex.contents.hero?.url ?? '';
    const button = flex.contents.footer?.contents[0]?.action;
    assert.equal(button?.label, 'View details');
    pageUrl = button.uri;
    assert.match(imageUrl, new RegExp(`^${PUBLIC}/api/v1/files/${fileId}/thumbnail\\?exp=\\d+&sig=[\\w-]+$`));
    assert.match(pageUrl, new RegExp(`^${PUBLIC}/files/${fileId}\\?exp=\\d+&sig=[\\w-]+$`));
  });

  test('the image URL, fetched with no token, answers 200 with the thumbnail; one changed character gives 403', async () => {
    const res = await fetch(local(imageUrl));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/webp');
    const bytes = Buffer.from(await res.arrayBuffer());
    const withToken = Buffer.from(await (await fetch(`${svc.url}${linkPaths.thumbnail(fileId)}`, { headers: auth })).arrayBuffer());
    assert.ok(bytes.length > 0 && bytes.equals(withToken), 'the same thumbnail the token fetches');

    const bad = await fetch(local(tamper(imageUrl)));
    assert.equal(bad.status, 403);
    assert.equal((await errorOf(bad)).code, ErrorCodes.LINK_INVALID);
    // The signature is bound to its path and expiry: another file, a later expiry, a cut link.
    const other = await fetch(local(imageUrl.replace(fileId, `${fileId.slice(0, -1)}${fileId.endsWith('a') ? 'b' : 'a'}`)));
    assert.equal(other.status, 403);
    const later = await fetch(local(imageUrl.replace(/exp=(\d+)/, (_m, e: string) => `exp=${Number(e) + 3600}`)));
    assert.equal(later.status, 403);
    assert.equal((await fetch(local(imageUrl.replace(/&sig=.*$/, '')))).status, 403);
    // Without any signature the route still wants the token: 401, as before.
    assert.equal((await fetch(`${svc.url}${linkPaths.thumbnail(fileId)}`)).status, 401);
    // A signed link opens GETs only.
    const post = await fetch(local(imageUrl.replace('/thumbnail?', '/reprocess?')), { method: 'POST' });
    assert.equal(post.status, 403);
    assert.equal((await errorOf(post)).code, ErrorCodes.LINK_INVALID);
  });

  test("the page link points at /files/<id>, signed with the service's signer", () => {
    const signer = signerFor(svc.config);
    const path = pageUrl.slice(PUBLIC.length);
    assert.deepEqual(verifyRequestUrl(signer, path), { ok: true });
    // The console's own check: the path and the parsed query.
    const q = new URL(pageUrl).searchParams;
    assert.deepEqual(signer.verify(linkPaths.page(fileId), { exp: q.get('exp') ?? undefined, sig: q.get('sig') ?? undefined }), { ok: true });
    assert.equal(verifyRequestUrl(signer, tamper(path)).ok, false);
  });

  test('the email carries the same signed links: thumbnail, details and the original', async () => {
    const mail = await until('the mail to alice', () => smtp.mails.find((m) => m.envelope.to.includes('alice@example.test')), 30_000);
    const html = String(mail.parsed.html);
    const text = mail.parsed.text ?? '';
    const hrefs = [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => (m[1] ?? '').replace(/&amp;/g, '&'));
    const thumb = hrefs.find((h) => h.includes('/thumbnail?'));
    const details = hrefs.find((h) => h.startsWith(`${PUBLIC}/files/`));
    const original = hrefs.find((h) => h.includes('/original?'));
    assert.ok(thumb && details && original, hrefs.join(' '));
    assert.match(text, new RegExp(`Details: ${PUBLIC}/files/${fileId}\\?exp=\\d+&sig=`));
    assert.match(text, new RegExp(`Original: ${PUBLIC}/api/v1/files/${fileId}/original\\?exp=\\d+&sig=`));
    assert.equal((await fetch(local(thumb))).status, 200);
    assert.equal((await fetch(local(tamper(thumb)))).status, 403);
    const signer = signerFor(svc.config);
    for (const link of [details, original]) assert.deepEqual(verifyRequestUrl(signer, link.slice(PUBLIC.length)), { ok: true }, link);
  });

  test('the summary chart opens with a signed link (its date is signed too)', async () => {
    const signer = signerFor(svc.config);
    const date = new Date().toISOString().slice(0, 10);
    const path = signer.sign(linkPaths.chart('alice', date));
    const res = await fetch(`${svc.url}${path}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    const otherDay = await fetch(`${svc.url}${path.replace(`date=${date}`, 'date=2020-01-01')}`);
    assert.equal(otherDay.status, 403);
    const otherOwner = await fetch(`${svc.url}${path.replace('/alice/', '/bob/')}`);
    assert.equal(otherOwner.status, 403);
  });

  test('after LINK_TTL the links answer 403 LINK_EXPIRED', async () => {
    const exp = Number(/exp=(\d+)/.exec(imageUrl)?.[1]);
    assert.ok(exp * 1000 - Date.now() <= TTL_SECONDS * 1000 + 1000, 'the link lives LINK_TTL');
    await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now() + 1100)));
    const res = await fetch(local(imageUrl));
    assert.equal(res.status, 403);
    const error = await errorOf(res);
    assert.equal(error.code, ErrorCodes.LINK_EXPIRED);
    assert.match(error.message, /expired/);
    assert.equal((await fetch(local(pageUrl.replace('/files/', '/api/v1/files/').replace('?', '/thumbnail?')))).status, 403);
    assert.equal(signerFor(svc.config).verify(linkPaths.page(fileId), Object.fromEntries(new URL(pageUrl).searchParams)).ok, false);
  });
});
