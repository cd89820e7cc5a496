import type { NotifyEvent } from './notifier.js';

/** What each event carries, keyed by event name: `hub.emit('file.failed', payload)` is type-checked. */
export interface FileEventPayload {
  readonly fileId: string;
  readonly owner: string | null;
  readonly filename: string;
  readonly status: 'completed' | 'failed';
  readonly error: string | null;
  /** When processing (this run) started: part of the idempotency key, so a reprocess notifies again. */
  readonly runStartedAt: Date | null;
  readonly facts?: ReadonlyArray<{ label: string; value: string }>;
  /** The thumbnail's signed (or presigned) URL, when there is one and links can be made. */
  readonly thumbnailUrl?: string | undefined;
  /** The uploaded bytes' signed (or presigned) URL. */
  readonly originalUrl?: string | undefined;
}

export interface EventPayloads {
  'file.completed': FileEventPayload;
  'file.failed': FileEventPayload;
  'file.stuck': { readonly fileId: string; readonly owner: string | null; readonly filename: string; readonly step: string; readonly since: Date | null };
  'job.failed': { readonly jobName: string; readonly jobId: string; readonly attempts: number; readonly error: string; readonly fileId?: string | undefined };
  'summary.daily': {
    /** null: the all-owners report for admins. */
    readonly owner: string | null;
    /** The local date the summary covers, YYYY-MM-DD. */
    readonly date: string;
    readonly title: string;
    readonly text: string;
    readonly html?: string | undefined;
    readonly facts: ReadonlyArray<{ label: string; value: string }>;
    readonly items?: ReadonlyArray<{ title: string; detail?: string }>;
    readonly chartPng?: Buffer | undefined;
    /** The chart's signed URL (src/notify/links.ts). */
    readonly chartUrl?: string | undefined;
  };
  'quota.warning': QuotaPayload;
  'quota.exceeded': QuotaPayload;
  test: { readonly note?: string };
}

export interface QuotaPayload {
  readonly owner: string;
  readonly usedBytes: number;
  readonly quotaBytes: number;
  /** The threshold crossed, percent (80, 90, 100). */
  readonly threshold: number;
  /** Identifies this crossing (so re-arming and crossing again notifies again). */
  readonly crossingId: string;
}

/** Compile-time check that every notifier event has a payload type. */
export type PayloadOf<E extends NotifyEvent> = EventPayloads[E];

/**
 * The part of an event's idempotency key that identifies what happened (not who hears it):
 * the same happening emitted twice (a re-run, a crash and retry) yields the same key.
 */
export function subjectKey<E extends NotifyEvent>(event: E, payload: EventPayloads[E]): string {
  const p = payload;
  switch (event) {
    case 'file.completed':
    case 'file.failed': {
      const f = p as FileEventPayload;
      return `${f.fileId}@${f.runStartedAt?.getTime() ?? 0}`;
    }
    case 'file.stuck': {
      const s = p as EventPayloads['file.stuck'];
      return `${s.fileId}:${s.step}@${s.since?.getTime() ?? 0}`;
    }
    case 'job.failed': {
      const j = p as EventPayloads['job.failed'];
      return `${j.jobName}:${j.jobId}:${j.attempts}`;
    }
    case 'summary.daily': {
      const s = p as EventPayloads['summary.daily'];
      return `${s.owner ?? '*'}:${s.date}`;
    }
    case 'quota.warning':
    case 'quota.exceeded': {
      const q = p as QuotaPayload;
      return `${q.owner}:${q.threshold}:${q.crossingId}`;
    }
    case 'test':
      return `${Date.now()}:${Math.random()}`;
  }
}
