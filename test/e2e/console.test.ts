import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

import { deriveLinkSecret } from '../../src/config/links.js';
import { linkSigner } from '../../src/links.js';
import { photoLike, truncatedJpeg } from '../fixtures/images.js';
import { createTempDir } from '../helpers/env.js';
import { getFile, startTestService, upload, waitForFinal } from '../helpers/service.js';
import { startWebhookServer, type TestWebhookServer } from '../helpers/webhook-server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SKIP = existsSync(CHROMIUM) ? false : `skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
const TOKEN = 'console-token-0123456789abcdef';
/** Screenshots of every page, desktop and phone width: look at them. */
const SHOTS = join(process.cwd(), 'test-output', 'console');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 800 };

type Started = Awaited<ReturnType<typeof startTestService>>;

describe('operator console in headless Chromium', { skip: SKIP, timeout: 300_000 }, () => {
  let svc: Started;
  let tmp: Awaited<ReturnType<typeof createTempDir>>;
  let browser: Browser;
  let desk: BrowserContext;
  let page: Page;
  // A webhook that refuses our signature (another secret): its notifications end dead.
  let hook: TestWebhookServer;
  const env = () => ({ DATA_DIR: tmp.dir, API_TOKEN: TOKEN, WEBHOOK_URLS: `refuses=${hook.origin}/hook`, WEBHOOK_SECRET: 'console-webhook-secret-0123' });
  const ids = { good: '', bad: '' };
  const external: string[] = [];

  /** The current page at desktop width, then the same URL at phone width (with the same cookies). */
  async function shoot(name: string): Promise<void> {
    await page.screenshot({ path: join(SHOTS, `${name}-desktop.png`), fullPage: true });
    const phone = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1 });
    await phone.addCookies(await desk.cookies());
    const p = await phone.newPage();
    await p.goto(page.url());
    await p.screenshot({ path: join(SHOTS, `${name}-phone.png`), fullPage: true });
    await phone.close();
  }

  before(async () => {
    await mkdir(SHOTS, { recursive: true });
    tmp = await createTempDir();
    hook = await startWebhookServer('not-the-secret-of-this-service');
    svc = await startTestService(env());
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    desk = await browser.newContext({ viewport: DESKTOP });
    page = await desk.newPage();
    // Nothing may load from anywhere but nightshift itself (any port: the service restarts on a new one).
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.protocol !== 'data:' && url.hostname !== '127.0.0.1') external.push(r.url());
    });
  });
  after(async () => {
    await browser?.close();
    await svc?.stop();
    await hook?.close();
    await tmp?.remove();
  });

  test('GET / asks to sign in; a wrong token is refused; the token signs in', async () => {
    await page.goto(`${svc.url}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await shoot('sign-in');
    await page.getByLabel('API token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That is not the API token.').waitFor();
    await page.getByLabel('API token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const cookie = (await desk.cookies()).find((c) => c.name === 'nightshift_session');
    assert.ok(cookie, 'a session cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.ok(cookie.expires > Date.now() / 1000, 'the session expires');
  });

  test('uploads through the API appear on the Overview without a reload', async () => {
    const marker = await page.evaluate('window.marker = Math.random()');
    const good = await upload(svc.url, await photoLike(640, 480, 3), 'good.jpg', { token: TOKEN, contentType: 'image/jpeg', owner: 'alice' });
    const bad = await upload(svc.url, await truncatedJpeg(), 'truncated.jpg', { token: TOKEN, contentType: 'image/jpeg', owner: 'alice' });
    ids.good = good.body.id;
    ids.bad = bad.body.id;
    await page.locator('dd[data-status="completed"]', { hasText: /^1$/ }).waitFor({ timeout: 180_000 });
    await page.locator('dd[data-status="failed"]', { hasText: /^1$/ }).waitFor({ timeout: 60_000 });
    assert.equal(await page.evaluate('window.marker'), marker, 'the page was not reloaded');
    await page.getByText('uploads (2)').waitFor();
    await shoot('overview');
  });

  test('the failed file shows its reason, steps and no thumbnail; the good one its thumbnail', async () => {
    await page.getByRole('link', { name: 'Files' }).click();
    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await page.getByRole('link', { name: 'truncated.jpg' }).click();
    const reason = await page.locator('[data-reason]').innerText();
    assert.match(reason, /truncat|corrupt|premature/i);
    assert.equal(reason, (await getFile(svc.url, ids.bad, TOKEN)).error);
    await shoot('file-failed');

    await page.goto(`${svc.url}/files?q=GOOD`);
    await page.getByRole('link', { name: 'good.jpg' }).click();
    const img = page.getByRole('img', { name: 'Thumbnail of good.jpg' });
    await img.waitFor();
    assert.ok(
      await img.evaluate(
        (el) => (el as unknown as { complete: boolean; naturalWidth: number }).complete && (el as unknown as { naturalWidth: number }).naturalWidth > 0,
      ),
      'the thumbnail loads',
    );
    await shoot('file-completed');
    await page.goto(`${svc.url}/files`);
    await shoot('files');
  });

  test('reprocessing the failure group runs the file again, with progress', async () => {
    const before = await getFile(svc.url, ids.bad, TOKEN);
    await page.getByRole('link', { name: 'Failures' }).click();
    await page.getByRole('button', { name: /Reprocess the 1 files failed with/ }).click();
    await page.getByText(/Reprocessing 1 of 1 files/).waitFor();
    await page.locator('[data-progress]', { hasText: '1 of 1 settled' }).waitFor({ timeout: 60_000 });
    await shoot('failures');
    const again = await waitForFinal(svc.url, ids.bad, 60_000, TOKEN);
    assert.equal(again.status, 'failed');
    assert.ok(
      new Date((again as unknown as { startedAt: string }).startedAt) > new Date((before as unknown as { startedAt: string }).startedAt),
      'it ran again',
    );
  });

  test('a POST without the CSRF token is refused', async () => {
    const cookie = (await desk.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const res = await fetch(`${svc.url}/schedules/quota-check/pause`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    assert.equal(res.status, 403);
    assert.match(await res.text(), /CSRF/);
  });

  test('a schedule paused in the console stays paused across a restart, and resumes', async () => {
    await page.getByRole('link', { name: 'Schedules' }).click();
    const row = () => page.locator('tr[data-schedule="quota-check"]');
    // By keyboard: the focused button keeps its focus through the live refresh (every 2 s), and Enter presses it.
    await page.getByRole('button', { name: 'Pause schedule quota-check' }).focus();
    await page.waitForTimeout(2_500);
    assert.equal(await page.evaluate('document.activeElement.getAttribute("aria-label")'), 'Pause schedule quota-check');
    await page.keyboard.press('Enter');
    await page.getByText('Schedule quota-check paused.').waitFor();
    await row().getByText('paused', { exact: true }).waitFor();
    await shoot('schedules');

    await svc.stop();
    svc = await startTestService(env());
    // The session cookie is for the host, not the port, and its key comes from API_TOKEN: still signed in.
    await page.goto(`${svc.url}/schedules`);
    await row().getByText('paused', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Resume schedule quota-check' }).click();
    await row().getByText('active', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Run quota-check now' }).click();
    await page.getByText('quota-check queued to run now.').waitFor();
    // The manual run is recorded and shows as the last run.
    await row().getByText('succeeded', { exact: true }).waitFor({ timeout: 30_000 });
    const res = await fetch(`${svc.url}/api/v1/controls`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.deepEqual(((await res.json()) as { schedules: string[] }).schedules, []);
  });

  test('workers and notifications pages', async () => {
    await page.getByRole('link', { name: 'Workers' }).click();
    await page.locator('td', { hasText: 'alive' }).first().waitFor();
    await page.getByRole('button', { name: 'Pause job ocr' }).click();
    await page.locator('tr[data-job="ocr"]').getByText('paused', { exact: true }).waitFor();
    await shoot('workers');
    await page.getByRole('button', { name: 'Resume job ocr' }).click();
    await page.locator('tr[data-job="ocr"]').getByText('active', { exact: true }).waitFor();
    await page.getByRole('link', { name: 'Notifications' }).click();
    await page.getByRole('heading', { name: 'Notifications' }).waitFor();
    await shoot('notifications');
  });

  test('a dead notification shows what the provider answered and is retried from its page', async () => {
    const sent = await fetch(`${svc.url}/api/v1/notifications/test`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'webhook', recipient: 'refuses' }),
    });
    assert.equal(sent.status, 202);
    await page.goto(`${svc.url}/notifications`);
    await page.getByLabel('Status').selectOption('dead');
    await page.getByLabel('Channel').selectOption('webhook');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    // The list is live: the row turns up dead without a reload.
    await page.getByRole('button', { name: /^Retry .+ to refuses$/ }).waitFor({ timeout: 60_000 });
    await page.locator('td a').first().click();
    await page.getByText(/401/).first().waitFor();
    await shoot('notification');
    await page.getByRole('button', { name: 'Retry this notification' }).click();
    await page.getByText('Notification queued again.').waitFor();
  });

  test('a signed link opens a file read-only without a session; a tampered one is refused', async () => {
    // The service signs with API_TOKEN (src/service.ts).
    const signed = linkSigner(deriveLinkSecret(TOKEN), 60_000).sign(`/files/${ids.bad}`);
    const anon = await browser.newContext({ viewport: PHONE });
    const p = await anon.newPage();
    const ok = await p.goto(`${svc.url}${signed}`);
    assert.equal(ok?.status(), 200);
    await p.getByText('Read-only view through a signed link').waitFor();
    assert.equal(await p.getByRole('button', { name: /Reprocess/ }).count(), 0);
    assert.equal(await p.getByRole('button', { name: 'Sign out' }).count(), 0);
    // Another first character (a fixed 'A' left one signature in 64 unchanged).
    const bad = await p.goto(`${svc.url}${signed.replace(/sig=(.)/, (_m, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`)}`);
    assert.equal(bad?.status(), 403);
    await p.getByText('this link has been altered').waitFor();
    // The good file's thumbnail loads through its own signed link.
    await p.goto(`${svc.url}${linkSigner(deriveLinkSecret(TOKEN), 60_000).sign(`/files/${ids.good}`)}`);
    const img = p.getByRole('img', { name: 'Thumbnail of good.jpg' });
    await img.waitFor();
    await p.waitForFunction('document.querySelector("img.thumb")?.naturalWidth > 0');
    const plain = await p.goto(`${svc.url}/files/${ids.bad}`);
    assert.equal(plain?.url().includes('/sign-in'), true);
    assert.equal(plain?.status(), 200);
    await anon.close();
  });

  test('Agendash: /dash redirects to /dash/; retrying a failed step job runs that step again', async () => {
    const auth = { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` };
    const redirect = await fetch(`${svc.url}/dash`, { headers: auth, redirect: 'manual' });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get('location'), '/dash/');

    const failedJobs: Array<{ id?: string; _id?: string; name: string }> = [];
    for (const name of ['analyze', 'thumbnail', 'ocr', 'process-file']) {
      const res = await fetch(`${svc.url}/api/v1/jobs/${name}/jobs?state=failed`, { headers: { authorization: `Bearer ${TOKEN}` } });
      failedJobs.push(...((await res.json()) as { items: Array<{ id?: string; _id?: string; name: string }> }).items);
    }
    const job = failedJobs.find((j) => j.name !== 'process-file');
    assert.ok(job, 'a failed step job to retry');
    const before = await getFile(svc.url, ids.bad, TOKEN);
    const attemptsBefore = before.steps[job.name]?.attempts ?? 0;
    const res = await fetch(`${svc.url}/dash/api/jobs/retry`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ jobIds: [String(job.id ?? job._id)] }),
    });
    const body = (await res.json()) as { retriedCount: number; message: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.retriedCount, 1);
    assert.match(body.message, /1 failed step run again/);
    const reopened = await getFile(svc.url, ids.bad, TOKEN);
    assert.equal(reopened.status, 'processing');
    assert.equal(reopened.steps[job.name]?.status, 'pending');
    const again = await waitForFinal(svc.url, ids.bad, 60_000, TOKEN);
    assert.equal(again.status, 'failed');
    assert.ok((again.steps[job.name]?.attempts ?? 0) > attemptsBefore, `${job.name} ran again`);
    assert.match(again.error ?? '', /truncat|corrupt|premature/i);
  });

  test('no page made a request anywhere but nightshift', () => {
    assert.deepEqual(external, []);
  });

  test('signing out brings the sign-in page back', async () => {
    await page.goto(`${svc.url}/`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.goto(`${svc.url}/workers`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  });
});

describe('console without API_TOKEN (loopback only)', { timeout: 60_000 }, () => {
  let svc: Started;
  let tmp: Awaited<ReturnType<typeof createTempDir>>;
  before(async () => {
    tmp = await createTempDir();
    svc = await startTestService({ DATA_DIR: tmp.dir }, 'api');
  });
  after(async () => {
    await svc?.stop();
    await tmp?.remove();
  });

  test('opens directly, serves its own assets, and still refuses a POST without the CSRF token', async () => {
    const home = await fetch(`${svc.url}/`);
    assert.equal(home.status, 200);
    const text = await home.text();
    assert.match(text, /<h1>Overview<\/h1>/);
    assert.match(home.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.doesNotMatch(text, /Sign out/);
    for (const src of text.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)) {
      const asset = await fetch(`${svc.url}${src[1]}`);
      assert.equal(asset.status, 200, src[1]);
    }
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await (await fetch(`${svc.url}/schedules`)).text())?.[1];
    assert.ok(csrf, 'forms carry a CSRF token');
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const refused = await fetch(`${svc.url}/schedules/quota-check/pause`, { method: 'POST', headers: form, body: '_csrf=wrong', redirect: 'manual' });
    assert.equal(refused.status, 403);
    const paused = await fetch(`${svc.url}/schedules/quota-check/pause`, {
      method: 'POST',
      headers: form,
      body: `_csrf=${encodeURIComponent(csrf)}`,
      redirect: 'manual',
    });
    assert.equal(paused.status, 303);
    const controls = (await (await fetch(`${svc.url}/api/v1/controls`)).json()) as { schedules: string[] };
    assert.deepEqual(controls.schedules, ['quota-check']);
  });

  test('the sign-in page sends you on, and a next= elsewhere stays on this site', async () => {
    const res = await fetch(`${svc.url}/sign-in?next=//evil.example/`, { redirect: 'manual' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/');
  });
});
