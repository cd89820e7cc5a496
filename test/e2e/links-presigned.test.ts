import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { linkPaths, signerFor, verifyRequestUrl } from '../../src/links.js';
import { startS3Server, type TestS3Server } from '../blobs/s3-server.js';
import { photoLike } from '../fixtures/images.js';
import { createTempDir } from '../helpers/env.js';
import { startTestService, upload, waitForFinal } from '../helpers/service.js';
import { startWebhookServer, type TestWebhookServer } from '../helpers/webhook-server.js';
import { until } from './notify-suite.js';

/**
 * LINK_MODE=presigned on S3 storage (s3rver), end to end: the webhook a file.completed sends
 * carries S3 presigned URLs for the thumbnail and the original, which plain fetch opens, and a
 * signed nightshift link for the page.
 */
const TOKEN = 'presigned-e2e-token-0123456789';
const PUBLIC = 'https://nightshift.example';
const SECRET = 'webhook-secret-presigned-0123';

describe('presigned links in messages (LINK_MODE=presigned, s3rver, webhook)', { timeout: 180_000 }, () => {
  let s3: TestS3Server;
  let hook: TestWebhookServer;
  let svc: Awaited<ReturnType<typeof startTestService>>;
  let tmp: Awaited<ReturnType<typeof createTempDir>>;

  before(async () => {
    s3 = await startS3Server();
    hook = await startWebhookServer(SECRET);
    tmp = await createTempDir();
    const storage = await s3.storage();
    svc = await startTestService({
      DATA_DIR: tmp.dir,
      API_TOKEN: TOKEN,
      PUBLIC_URL: PUBLIC,
      STORAGE_URL: `s3://${storage.bucket}`,
      S3_ENDPOINT: s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: storage.accessKeyId,
      AWS_SECRET_ACCESS_KEY: storage.secretAccessKey,
      LINK_MODE: 'presigned',
      WEBHOOK_URLS: `ops=${hook.origin}/hook`,
      WEBHOOK_SECRET: SECRET,
      NOTIFY_ADMINS: 'webhook:ops',
      NOTIFY_RULES: JSON.stringify({ 'file.completed': { admins: true } }),
      OCR_MODE: 'never',
    });
  });
  after(async () => {
    await svc?.stop();
    await Promise.allSettled([hook?.close(), s3?.stop()]);
    await tmp?.remove();
  });

  test('the webhook carries presigned thumbnail and original URLs that open with plain fetch, and a signed page link', async () => {
    const bytes = await photoLike(320, 240);
    const up = await upload(svc.url, bytes, 'photo.jpg', { contentType: 'image/jpeg', token: TOKEN });
    assert.equal(up.status, 202);
    const id = up.body.id;
    assert.equal((await waitForFinal(svc.url, id, 90_000, TOKEN)).status, 'completed');
    const got = await until('the file.completed webhook', () => hook.received.find((r) => r.body.event === 'file.completed'), 30_000);
    const { thumbnail = '', original: originalUrl = '', page = '' } = got.body.links;
    assert.ok(thumbnail.startsWith(`${s3.endpoint}/`), thumbnail);
    assert.match(thumbnail, /X-Amz-Signature=/);
    assert.match(thumbnail, /X-Amz-Expires=604800(&|$)/, 'the default 7 days, S3 presigning at most that');
    const thumb = await fetch(thumbnail);
    assert.equal(thumb.status, 200);
    const viaApi = Buffer.from(await (await fetch(`${svc.url}${linkPaths.thumbnail(id)}`, { headers: { authorization: `Bearer ${TOKEN}` } })).arrayBuffer());
    assert.ok(Buffer.from(await thumb.arrayBuffer()).equals(viaApi), 'the thumbnail');
    const original = await fetch(originalUrl);
    assert.equal(original.status, 200);
    assert.ok(Buffer.from(await original.arrayBuffer()).equals(bytes), 'the uploaded bytes');
    assert.ok(page.startsWith(`${PUBLIC}/files/${id}?`), page);
    assert.deepEqual(verifyRequestUrl(signerFor(svc.config), page.slice(PUBLIC.length)), { ok: true });
    assert.equal(got.body.url, page);
  });
});
