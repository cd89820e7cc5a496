import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { originalKey, thumbnailKey } from '../../src/blobs/keys.js';
import { S3BlobStore } from '../../src/blobs/s3.js';
import { linkSigner } from '../../src/links.js';
import { createMessageLinks } from '../../src/notify/links.js';
import { startS3Server, type TestS3Server } from './s3-server.js';

/** LINK_MODE=presigned against a real S3-protocol server (s3rver): the URLs open with plain fetch. */
describe('presigned links (LINK_MODE=presigned, s3rver)', () => {
  let server: TestS3Server;
  let blobs: S3BlobStore;
  const id = randomUUID();
  const original = randomBytes(4096);
  const thumb = randomBytes(512);

  before(async () => {
    server = await startS3Server();
    blobs = new S3BlobStore(await server.storage('tenant/'));
    await blobs.put(originalKey(id), original, { contentType: 'image/jpeg' });
    await blobs.put(thumbnailKey(id), thumb, { contentType: 'image/webp' });
  });
  after(async () => {
    await blobs?.close();
    await server?.stop();
  });

  const links = (ttlMs: number) =>
    createMessageLinks({
      publicUrl: 'https://nightshift.example',
      signer: linkSigner('presign-test-secret-0123', ttlMs),
      links: { mode: 'presigned', ttlMs },
      blobs,
    });

  test('the thumbnail and original URLs, fetched with plain fetch, answer 200 with the bytes', async () => {
    const l = links(3_600_000);
    const thumbUrl = (await l.thumbnail({ id, thumbnailKey: thumbnailKey(id) })) ?? '';
    const originalUrl = await l.original({ id, blobKey: originalKey(id) });
    assert.ok(thumbUrl.startsWith(`${server.endpoint}/`), thumbUrl);
    assert.match(thumbUrl, /X-Amz-Signature=/);
    assert.match(thumbUrl, /X-Amz-Expires=3600(&|$)/);
    const t = await fetch(thumbUrl);
    assert.equal(t.status, 200);
    assert.ok(Buffer.from(await t.arrayBuffer()).equals(thumb));
    const o = await fetch(originalUrl ?? '');
    assert.equal(o.status, 200);
    assert.ok(Buffer.from(await o.arrayBuffer()).equals(original));
    // The page is nightshift's own: still a signed nightshift link.
    assert.match(l.page(id) ?? '', new RegExp(`^https://nightshift\\.example/files/${id}\\?exp=\\d+&sig=`));
  });

  test("LINK_TTL beyond S3's 7-day maximum is capped at 7 days", async () => {
    const url = await links(30 * 86_400_000).thumbnail({ id, thumbnailKey: thumbnailKey(id) });
    assert.match(url ?? '', /X-Amz-Expires=604800(&|$)/);
    assert.equal((await fetch(url ?? '')).status, 200);
  });

  test('an expired presigned URL is refused by S3', async () => {
    // s3rver checks a presigned URL's access key and expiry (not its signature bytes; real S3 does).
    const url = (await blobs.presignGet(thumbnailKey(id), 1)) ?? '';
    assert.equal((await fetch(url)).status, 200);
    const other = url.replace(/X-Amz-Credential=[^%&]+/, 'X-Amz-Credential=NOBODY');
    assert.notEqual(other, url);
    assert.equal((await fetch(other)).status, 403);
    await new Promise((r) => setTimeout(r, 2_100));
    assert.equal((await fetch(url)).status, 403);
  });
});
