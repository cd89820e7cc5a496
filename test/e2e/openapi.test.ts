import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Validator } from '@seriousme/openapi-schema-validator';

import { registeredRoutes } from '../../src/http/server.js';
import { createTempDir } from '../helpers/env.js';
import { startTestService } from '../helpers/service.js';

type Started = Awaited<ReturnType<typeof startTestService>>;
interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, { summary?: string; description?: string }>>;
}

/**
 * The one rule for what the document may leave out: browser pages and their assets (Agendash
 * under /dash, the reference page under /docs, the console's HTML pages), which mark themselves
 * hidden, and the HEAD twins fastify adds to GET routes. Everything else must be documented.
 */
const EXCLUDED = (r: { method: string; url: string; hidden: boolean }) => r.method === 'HEAD' || r.hidden;
/** Hidden is only for browser pages: an API, health, metrics or webhook route may never hide. */
const MUST_DOCUMENT = /^\/(api\/|healthz$|readyz$|metrics$|webhooks\/|openapi\.json$)/;

/** fastify's `/files/:id` is OpenAPI's `/files/{id}`. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('OpenAPI document', () => {
  let svc: Started;
  let tmp: Awaited<ReturnType<typeof createTempDir>>;
  let doc: OpenApiDoc;

  before(async () => {
    tmp = await createTempDir();
    svc = await startTestService({ DATA_DIR: tmp.dir }, 'api');
    const res = await fetch(`${svc.url}/openapi.json`);
    assert.equal(res.status, 200);
    doc = (await res.json()) as OpenApiDoc;
  });
  after(async () => {
    await svc?.stop();
    await tmp?.remove();
  });

  test('is a valid OpenAPI 3.1 document', async () => {
    assert.match(doc.openapi, /^3\.1\./);
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Record<string, unknown>);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.equal(validator.version, '3.1');
  });

  test('documents every registered route but the browser pages', () => {
    assert.ok(svc.http);
    const routes = registeredRoutes(svc.http);
    assert.ok(routes.length > 30, `only ${routes.length} routes collected`);
    const missing: string[] = [];
    for (const r of routes) {
      if (MUST_DOCUMENT.test(r.url)) assert.equal(r.hidden, false, `${r.method} ${r.url} hides itself from the document`);
      if (EXCLUDED(r)) continue;
      if (!doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()]) missing.push(`${r.method} ${r.url}`);
    }
    assert.deepEqual(missing, []);
    // The rule is exercised: Agendash and the reference page are hidden (and, above, no API route is).
    const hidden = routes.filter((r) => r.hidden).map((r) => r.url);
    assert.ok(hidden.some((u) => u.startsWith('/dash')));
    assert.ok(hidden.some((u) => u.startsWith('/docs')));
  });

  test('describes the files routes from their schemas, and names the seed aliases as aliases', () => {
    const upload = doc.paths['/api/v1/files']?.post as unknown as { requestBody: { content: Record<string, unknown> } };
    assert.ok(upload.requestBody.content['multipart/form-data']);
    const list = doc.paths['/api/v1/files']?.get as unknown as { parameters: Array<{ name: string; in: string }> };
    assert.deepEqual(list.parameters.map((p) => p.name).sort(), ['cursor', 'include', 'limit', 'owner', 'status']);
    assert.ok(doc.paths['/api/v1/files/{id}']?.delete);
    assert.match(doc.paths['/api/v1/files/upload']?.post?.description ?? '', /alias of `POST \/api\/v1\/files`/);
    assert.match(doc.paths['/api/v1/files/{id}/status']?.get?.description ?? '', /alias of/);
  });

  test('the reference page at /docs is served from local assets', async () => {
    const page = await fetch(`${svc.url}/docs/`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /swagger-ui/i);
    // Every script and stylesheet is relative (served here), none from a CDN.
    for (const m of html.matchAll(/(?:src|href)="([^"]+)"/g)) assert.doesNotMatch(m[1] ?? '', /^(https?:)?\/\//, m[1]);
    const bundle = await fetch(`${svc.url}/docs/static/swagger-ui-bundle.js`);
    assert.equal(bundle.status, 200);
    await bundle.arrayBuffer();
  });
});
