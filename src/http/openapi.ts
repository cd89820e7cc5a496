import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, RouteOptions } from 'fastify';

import { VERSION } from '../version.js';
import { describeOnly } from './schema.js';

/**
 * The OpenAPI 3.1 document at /openapi.json, built by @fastify/swagger from every route's own
 * schema (see schema.ts: described from the routes' zod schemas), and a reference page at /docs
 * whose assets are served from the installed package (no CDN).
 *
 * What is left out, by one rule: pages for a browser and their assets (Agendash under /dash,
 * this reference page under /docs, the console's HTML pages) mark themselves `hide`; every API,
 * health, metrics and webhook route is in the document.
 */
export async function registerOpenApi(app: FastifyInstance, options: { readonly token: boolean }): Promise<void> {
  describeOnly(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'nightshift',
        version: VERSION,
        description: 'Background work for upload-driven apps: file pipeline, housekeeping, notifications.',
      },
      ...(options.token ? { components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } }, security: [{ bearer: [] }] } : {}),
    },
  });
}

/** Call after every route is registered. */
export async function mountDocs(app: FastifyInstance): Promise<void> {
  app.get('/openapi.json', { schema: { summary: 'This OpenAPI 3.1 document', tags: ['docs'] } }, async () => app.swagger());
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // The bundled assets only (validatorUrl stays null: no badge fetched from swagger.io).
    staticCSP: true,
  });
}

/** For a scope of browser pages (Agendash, the console): keep its routes out of the document. */
export function hideFromDocs(route: RouteOptions): void {
  route.schema = { ...(route.schema ?? {}), hide: true };
}
