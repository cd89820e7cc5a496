import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { type Browser, chromium } from 'playwright-core';

import { createTempDir } from '../helpers/env.js';
import { startTestService, upload } from '../helpers/service.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SKIP = existsSync(CHROMIUM) ? false : `skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
const TOKEN = 'dash-token-0123456789abcdef';

describe('Agendash dashboard in headless Chromium', { skip: SKIP, timeout: 120_000 }, () => {
  let svc: Awaited<ReturnType<typeof startTestService>>;
  let tmp: Awaited<ReturnType<typeof createTempDir>>;
  let browser: Browser;

  before(async () => {
    tmp = await createTempDir();
    // api role: the uploaded file's process-file job stays queued, for the dashboard to show.
    svc = await startTestService({ DATA_DIR: tmp.dir, API_TOKEN: TOKEN }, 'api');
    await upload(svc.url, Buffer.from('hello'), 'hello.txt', { token: TOKEN });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  after(async () => {
    await browser?.close();
    await svc?.stop();
    await tmp?.remove();
  });

  test('without credentials the dashboard is refused', async () => {
    const page = await browser.newPage();
    // Chromium answers a Basic challenge it has no credentials for by failing the navigation.
    const outcome = await page.goto(`${svc.url}/dash/`).then(
      (res) => `status ${res?.status()}`,
      (err: Error) => err.message,
    );
    assert.match(outcome, /status 401|ERR_INVALID_AUTH_CREDENTIALS/);
    assert.equal(await page.getByText('process-file').count(), 0);
    await page.close();
  });

  test('with the token as basic-auth password it lists the queued job', async () => {
    const context = await browser.newContext({ httpCredentials: { username: 'admin', password: TOKEN } });
    const page = await context.newPage();
    const res = await page.goto(`${svc.url}/dash/`);
    assert.equal(res?.status(), 200);
    await page.getByText('process-file').first().waitFor({ timeout: 30_000 });
    if (process.env.DASH_SCREENSHOT) await page.screenshot({ path: process.env.DASH_SCREENSHOT, fullPage: true });
    await context.close();
  });
});
