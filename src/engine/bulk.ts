import type { MongoJobRepository } from '@agendajs/mongo-backend';
import type { JobRepository } from 'agenda';

/** One new one-off job of a bulk insert. */
export interface NewJob {
  readonly name: string;
  readonly data: unknown;
  readonly priority: number;
  readonly nextRunAt: Date;
  /** Inserted paused (its job type is paused by the operator). */
  readonly disabled: boolean;
}

/**
 * A repository that inserts many one-off jobs at once. Agenda's JobRepository has no bulk
 * insert, so each backend of ours brings one: SQLite one multi-row INSERT per chunk in one
 * write transaction (recording one wake-up per name), PostgreSQL one INSERT … SELECT FROM
 * unnest(…) per call (the wake-up trigger fires for the rows), MongoDB one insertMany.
 */
export interface BulkJobRepository {
  /** Insert every job; returns how many were inserted. */
  insertJobs(jobs: readonly NewJob[], lastModifiedBy: string | null): Promise<number>;
}

const hasBulk = (r: JobRepository): r is JobRepository & BulkJobRepository => typeof (r as Partial<BulkJobRepository>).insertJobs === 'function';

const isMongo = (r: JobRepository): r is JobRepository & MongoJobRepository => typeof (r as Partial<MongoJobRepository>).collection?.insertMany === 'function';

/** The bulk path of a backend's repository: its own insertJobs, or insertMany on the official MongoDB one. */
export function bulkRepository(repository: JobRepository): BulkJobRepository {
  if (hasBulk(repository)) return repository;
  // Told by shape, not instanceof: the MongoDB driver loads only when MongoDB is configured.
  if (isMongo(repository)) {
    return {
      async insertJobs(jobs, lastModifiedBy) {
        if (jobs.length === 0) return 0;
        const now = new Date();
        const docs = jobs.map((j) => ({
          name: j.name,
          data: j.data,
          priority: j.priority,
          nextRunAt: j.nextRunAt,
          type: 'normal' as const,
          disabled: j.disabled,
          lastModifiedBy,
          createdAt: now,
          updatedAt: now,
        }));
        // The collection's document type is upstream's; these are the fields its saveJob writes.
        const r = await repository.collection.insertMany(docs, { ordered: false });
        return r.insertedCount;
      },
    };
  }
  throw new Error('this job backend has no bulk insert');
}
