import type { Agenda } from 'agenda';
import { createFastifyPlugin } from 'agendash';
import type { FastifyInstance } from 'fastify';

import { requireToken } from './auth.js';
import { hideFromDocs } from './openapi.js';

/** Agendash at /dash, behind the API token when one is set (basic auth works for a browser). */
export async function mountDashboard(app: FastifyInstance, agenda: Agenda, apiToken: string | undefined): Promise<void> {
  await app.register(
    async (scope) => {
      // Browser pages: out of the OpenAPI document.
      scope.addHook('onRoute', hideFromDocs);
      if (apiToken) scope.addHook('onRequest', requireToken(apiToken, { allowBasic: true, realm: 'nightshift dashboard' }));
      await scope.register(createFastifyPlugin(agenda));
    },
    { prefix: '/dash' },
  );
}
