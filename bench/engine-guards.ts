// What the PostgreSQL guards of src/engine/pg buy, measured against the official backend:
// unique() saves racing from two pools, and backends starting together on a fresh database.
import { PostgresBackend, type PostgresJobRepository } from '@agendajs/postgres-backend';
import { Agenda, type AgendaBackend } from 'agenda';

import { createEngineBackend } from '../src/engine/backends.js';
import type { Logger } from '../src/logger.js';

type Fresh = () => Promise<string>;

const official = (url: string): AgendaBackend => {
  const b = new PostgresBackend({ connectionString: url });
  (b.repository as PostgresJobRepository).getPool().on('error', () => undefined);
  return b;
};
const ours = async (url: string, log: Logger) => (await createEngineBackend({ kind: 'postgres', url }, { log })).backend;

/** KEYS unique keys, each saved 4 times at once from two backends; rows left and wall ms per save. */
export async function uniqueRace(fresh: Fresh, log: Logger): Promise<string[]> {
  const KEYS = 50;
  const lines: string[] = [];
  for (const variant of ['official', 'guarded'] as const) {
    const url = await fresh();
    const make = async () => new Agenda({ backend: variant === 'official' ? official(url) : await ours(url, log) });
    // One after the other: upstream cannot create its schema from two backends at once (below).
    const a = await make();
    await a.ready;
    const b = await make();
    await b.ready;
    const start = performance.now();
    for (let k = 0; k < KEYS; k++) {
      await Promise.all([a, b, a, b].map((ag, i) => ag.create('race', { k, i }).unique({ 'data.k': k }).save()));
    }
    const ms = (performance.now() - start) / (KEYS * 4);
    const rows = (await a.queryJobs({ name: 'race' })).total;
    lines.push(`  unique() race, ${variant.padEnd(8)}: ${KEYS} keys x 4 concurrent saves -> ${rows} rows (want ${KEYS}); ${ms.toFixed(2)} ms per save`);
    for (const ag of [a, b]) await (ag as unknown as { backend: AgendaBackend }).backend.disconnect();
  }
  return lines;
}

/** TRIALS fresh databases, four backends connecting at once: how many trials saw an error. */
export async function schemaRace(fresh: Fresh, log: Logger): Promise<string[]> {
  const TRIALS = 5;
  const lines: string[] = [];
  for (const variant of ['official', 'guarded'] as const) {
    let failed = 0;
    let first = '';
    for (let t = 0; t < TRIALS; t++) {
      const url = await fresh();
      const backends = await Promise.all([0, 1, 2, 3].map(async () => (variant === 'official' ? official(url) : await ours(url, log))));
      const results = await Promise.allSettled(backends.map((b) => b.connect()));
      const err = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (err) {
        failed += 1;
        first ||= String((err.reason as Error).message);
      }
      await Promise.allSettled(backends.map((b) => b.disconnect()));
    }
    lines.push(`  fresh-database start, ${variant.padEnd(8)}: ${failed}/${TRIALS} trials failed${first ? ` (${first})` : ''}`);
  }
  return lines;
}
