import { buffer } from 'node:stream/consumers';

import type { JobContext, JobDefinition } from '../engine/job.js';
import { defineJob } from '../engine/job.js';
import { ErrorCodes, NightshiftError } from '../errors.js';
import type { FileRecord, StepName } from '../store/types.js';
import { settleFile } from './settle.js';

export interface StepInput {
  readonly file: FileRecord;
  /** The original's bytes (uploads are bounded by MAX_UPLOAD_BYTES). */
  readonly bytes: Buffer;
  readonly ctx: JobContext<StepName>;
}

/** What a step's run returns when the step turns out not to apply to this file (OCR on a photo). */
export class StepSkipped {
  constructor(readonly reason: string) {}
}

export interface StepSpec {
  readonly name: StepName;
  readonly concurrency: number;
  readonly attempts?: number;
  readonly backoffMs?: number;
  readonly timeoutMs: number;
  /**
   * Do the work and return what goes on the file record (JSON-serialisable). Throw a
   * PermanentError for input that will never work; anything else is retried. A StepSkipped
   * records the step as skipped with its reason.
   */
  run(input: StepInput): Promise<Record<string, unknown> | StepSkipped>;
  /** Bytes of derived blobs the result stored (thumbnails): they count against the owner's quota. */
  derivedBytes?(result: Record<string, unknown>): number;
}

/**
 * A processing step as a job: marks the step running, loads the original, runs it, stores the
 * outcome and settles the file once every step is final. The step files in jobs/ only say what
 * the work is.
 */
export function defineStep(spec: StepSpec): JobDefinition<StepName> {
  return defineJob<StepName>({
    name: spec.name,
    concurrency: spec.concurrency,
    attempts: spec.attempts ?? 3,
    backoffMs: spec.backoffMs ?? 1_000,
    timeoutMs: spec.timeoutMs,
    async handler(ctx) {
      const { store, blobs } = ctx.services;
      const file = await store.getFile(ctx.data.fileId);
      if (!file) throw new NightshiftError(ErrorCodes.NOT_FOUND, `file ${ctx.data.fileId} no longer exists`);
      const step = file.steps.find((s) => s.name === spec.name);
      // A reprocess or a finished step makes this run stale: nothing to do.
      if (file.status !== 'processing' || !step || (step.status !== 'pending' && step.status !== 'running')) {
        ctx.log.debug({ status: file.status, step: step?.status }, 'step no longer wanted');
        return;
      }
      await store.startStep(file.id, spec.name);
      const started = performance.now();
      const stopBeating = startHeartbeat(ctx, file.id, spec.name, spec.timeoutMs);
      try {
        const bytes = await buffer(await blobs.get(file.blobKey));
        ctx.signal.throwIfAborted();
        const result = await spec.run({ file, bytes, ctx });
        ctx.signal.throwIfAborted();
        if (result instanceof StepSkipped) {
          await store.finishStep(file.id, spec.name, { status: 'skipped', durationMs: Math.round(performance.now() - started), error: result.reason });
          await settleFile(ctx.services, file.id, ctx.log);
          return;
        }
        const derived = spec.derivedBytes?.(result) ?? 0;
        if (derived > 0) await store.reports.addDerivedBytes(file.id, derived);
        await store.finishStep(file.id, spec.name, { status: 'completed', durationMs: Math.round(performance.now() - started), result });
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        // The engine decides whether another attempt follows; until then the step waits as pending.
        await store.finishStep(file.id, spec.name, { status: 'pending', durationMs: Math.round(performance.now() - started), error });
        throw err;
      } finally {
        stopBeating();
      }
      await settleFile(ctx.services, file.id, ctx.log);
    },
    async onFailed(ctx, error) {
      const { store } = ctx.services;
      const file = await store.getFile(ctx.data.fileId);
      const step = file?.steps.find((s) => s.name === spec.name);
      await store.finishStep(ctx.data.fileId, spec.name, {
        status: 'failed',
        durationMs: step?.durationMs ?? 0,
        error: error.message,
      });
      await settleFile(ctx.services, ctx.data.fileId, ctx.log);
    },
  });
}

/**
 * While a step runs, tell the store (heartbeatAt, read by cleanup-stuck) and the engine (the
 * Agenda lock) that it is alive: several beats per time limit, so one slow beat is no false alarm.
 */
function startHeartbeat(ctx: JobContext<StepName>, fileId: string, step: StepName, timeoutMs: number): () => void {
  const everyMs = Math.min(60_000, Math.max(1_000, Math.floor(timeoutMs / 5)));
  const timer = setInterval(() => {
    Promise.all([ctx.services.store.heartbeatStep(fileId, step), ctx.heartbeat()]).catch((err: unknown) =>
      ctx.log.debug({ err }, 'heartbeat failed'),
    );
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
