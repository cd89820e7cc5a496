/**
 * The record of periodic job runs: one row per (job, occurrence), so a scheduled occurrence
 * runs once even if two workers were ever handed it, and what each run did stays queryable
 * (GET /api/v1/schedules shows the last one).
 */

export type RunStatus = 'running' | 'succeeded' | 'failed';

export interface JobRun {
  readonly job: string;
  /**
   * Which occurrence this run is: the scheduled time as ISO text for a scheduled run
   * ("2025-01-01T09:05:00.000Z"), `manual:<agenda job id>` for a run requested by hand.
   */
  readonly occurrence: string;
  readonly status: RunStatus;
  /** Agenda worker name of the process that ran it. */
  readonly worker: string | null;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  /** What the run did, as counts (e.g. { reEnqueued: 2, blobsPurged: 10 }); null until it finished. */
  readonly result: Readonly<Record<string, number>> | null;
  readonly error: string | null;
}

export interface BeginRun {
  readonly job: string;
  readonly occurrence: string;
  readonly worker: string;
  /** A `running` row that started before this belongs to a dead worker and may be taken over. */
  readonly staleBefore: Date;
}

export type RunOutcome =
  | { readonly status: 'succeeded'; readonly result: Readonly<Record<string, number>> }
  | { readonly status: 'failed'; readonly error: string; readonly result?: Readonly<Record<string, number>> | undefined };

export interface RunRepo {
  /**
   * Claim an occurrence. True: the caller runs it. False: another run has it (succeeded, or
   * running and not stale). A failed run may be claimed again (that is the retry). Atomic across
   * processes: of concurrent callers at most one gets true.
   */
  begin(run: BeginRun): Promise<boolean>;
  /** Record how the claimed run ended. */
  finish(job: string, occurrence: string, outcome: RunOutcome): Promise<void>;
  /** Newest runs of one job first (by startedAt), at most `limit`. */
  list(job: string, limit: number): Promise<JobRun[]>;
  /** Delete finished runs that started before `before`; returns rows deleted. */
  purge(before: Date): Promise<number>;
}
