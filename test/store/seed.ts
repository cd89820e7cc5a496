import type { Kysely } from 'kysely';
import type { Db } from 'mongodb';

import { isStep } from '../../src/pipeline/step.js';
import { registry } from '../../src/registry.js';
import type { Database } from '../../src/store/schema.js';
import type { FileStatus, StepName, StepStatus } from '../../src/store/types.js';
/** The pipeline's step order, as the registry gives it. */
export const STEP_ORDER: readonly string[] = registry.jobs.filter(isStep).map((d) => d.name);
const STEP_NAMES = STEP_ORDER;

/**
 * Files written straight into a store's database with chosen times, owners and outcomes, for
 * exact report assertions and the 100,000-file bench. Store methods stamp Date.now(), which a
 * test cannot place in a window.
 */
export interface SeedStep {
  readonly name: StepName;
  readonly status: StepStatus;
  readonly attempts?: number;
  readonly startedAt?: Date | null;
  readonly heartbeatAt?: Date | null;
}

export interface SeedFile {
  readonly id: string;
  readonly owner: string | null;
  readonly status: FileStatus;
  readonly uploadedAt: Date;
  readonly startedAt?: Date | null;
  readonly completedAt?: Date | null;
  readonly error?: string | null;
  readonly size?: number;
  readonly derivedBytes?: number;
  readonly steps?: readonly SeedStep[];
}

const ms = (d: Date | null | undefined): number | null => (d ? d.getTime() : null);

/** Batched multi-row INSERTs (1,000 rows: well under both engines' parameter limits). */
export async function seedSqlFiles(db: Kysely<Database>, files: readonly SeedFile[], batch = 1000): Promise<void> {
  for (let i = 0; i < files.length; i += batch) {
    const chunk = files.slice(i, i + batch);
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('files')
        .values(
          chunk.map((f) => ({
            id: f.id,
            owner: f.owner,
            filename: `${f.id}.jpg`,
            content_type: 'image/jpeg',
            size: f.size ?? 0,
            blob_key: `originals/${f.id}`,
            status: f.status,
            error: f.error ?? null,
            uploaded_at: f.uploadedAt.getTime(),
            started_at: ms(f.startedAt),
            completed_at: ms(f.completedAt),
            derived_bytes: f.derivedBytes ?? 0,
          })),
        )
        .execute();
      const steps = chunk.flatMap((f) =>
        (f.steps ?? []).map((s) => ({
          file_id: f.id,
          name: s.name,
          position: STEP_NAMES.indexOf(s.name),
          status: s.status,
          attempts: s.attempts ?? 0,
          duration_ms: null,
          error: null,
          started_at: ms(s.startedAt),
          finished_at: null,
          heartbeat_at: ms(s.heartbeatAt),
          result: null,
        })),
      );
      if (steps.length > 0) await trx.insertInto('file_steps').values(steps).execute();
    });
  }
}

interface SeedDoc {
  _id: string;
  [field: string]: unknown;
}

export async function seedMongoFiles(db: Db, files: readonly SeedFile[], batch = 1000): Promise<void> {
  for (let i = 0; i < files.length; i += batch) {
    await db.collection<SeedDoc>('files').insertMany(
      files.slice(i, i + batch).map((f) => ({
        _id: f.id,
        owner: f.owner,
        filename: `${f.id}.jpg`,
        contentType: 'image/jpeg',
        size: f.size ?? 0,
        derivedBytes: f.derivedBytes ?? 0,
        blobKey: `originals/${f.id}`,
        status: f.status,
        error: f.error ?? null,
        uploadedAt: f.uploadedAt,
        startedAt: f.startedAt ?? null,
        completedAt: f.completedAt ?? null,
        rev: 1,
        steps: [...(f.steps ?? [])]
          .sort((a, b) => STEP_NAMES.indexOf(a.name) - STEP_NAMES.indexOf(b.name))
          .map((s) => ({
            name: s.name,
            status: s.status,
            attempts: s.attempts ?? 0,
            durationMs: null,
            error: null,
            startedAt: s.startedAt ?? null,
            finishedAt: null,
            heartbeatAt: s.heartbeatAt ?? null,
            result: null,
          })),
      })),
    );
  }
}
