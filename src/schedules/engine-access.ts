import type { Agenda } from 'agenda';

/**
 * Housekeeping needs the Agenda instance (release dead locks, purge finished records), which
 * JobServices does not carry. The service adds `{ engineAccess: { agenda } }` to the services it
 * hands the engine (the engine copies extra properties into every job's ctx.services); this
 * reads it back. Filled in once the engine exists, hence a holder rather than the value.
 * TODO(contract): an `agenda` (or job-records) member on JobServices would replace this.
 */
export interface EngineAccess {
  agenda: Agenda | undefined;
}

export function agendaOf(services: object): Agenda | undefined {
  return (services as { engineAccess?: EngineAccess }).engineAccess?.agenda;
}
