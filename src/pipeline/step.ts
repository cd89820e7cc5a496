import { z } from 'zod';

import { readWhole } from '../blobs/read.js';
import type { JobContext, JobDefaults, JobDefinition, JobOpenContext } from '../engine/job.js';
import { defineJob } from '../engine/job.js';
import { ErrorCodes, NightshiftError } from '../errors.js';
import type { FileRecord, StepName, StepResults } from '../store/types.js';
import { settleFile } from './settle.js';

/** Every step's payload: the file it works on. */
export const StepPayload = z.object({ fileId: z.string().min(1).max(128) }).strict();
export type StepPayload = z.infer<typeof StepPayload>;

export interface StepInput<N extends StepName> {
  readonly file: FileRecord;
  /** The original's bytes (uploads are bounded by MAX_UPLOAD_BYTES). */
  readonly bytes: Buffer;
  readonly ctx: JobContext<N>;
}

/** What a step's run returns when the step turns out not to apply to this file (OCR on a photo). */
export class StepSkipped {
  constructor(readonly reason: string) {}
}

export interface StepSpec<N extends StepName> {
  readonly name: N;
  readonly description: string;
  readonly defaults: JobDefaults;
  /** What the step records on the file; the result is checked against it before it is stored. */
  readonly result: z.ZodType<StepResults[N]>;
  /**
   * Do the work and return what goes on the file record. Throw a PermanentError for input that
   * will never work; anything else is retried. A StepSkipped records the step as skipped with
   * its reason.
   */
  run(input: StepInput<N>): Promise<StepResults[N] | StepSkipped>;
  /** Bytes of derived blobs the result stored (thumbnails): they count against the owner's quota. */
  derivedBytes?(result: StepResults[N]): number;
  open?(ctx: JobOpenContext): Promise<void>;
  close?(): Promise<void>;
}

/** A job definition that is a processing step (process-file fans these out for every image). */
export type StepDefinition<N extends StepName> = JobDefinition<N> & { readonly step: true };

/**
 * A processing step as a job: marks the step running, loads the original, runs it, stores the
 * outcome and settles the file once every step is final. The step files in jobs/ only say what
 * the work is.
 */
export function defineStep<N extends StepName>(spec: StepSpec<N>): StepDefinition<N> {
  const definition = defineJob<N>({
    name: spec.name,
    description: spec.description,
    payload: StepPayload,
    defaults: spec.defaults,
    ...(spec.open ? { open: spec.open.bind(spec) } : {}),
    ...(spec.close ? { close: spec.close.bind(spec) } : {}),
    async handler(ctx) {
      const { store, blobs } = ctx.services;
      const { fileId } = ctx.data;
      const file = await store.getFile(fileId);
      if (!file) throw new NightshiftError(ErrorCodes.NOT_FOUND, `file ${fileId} no longer exists`);
      const step = file.steps.find((s) => s.name === spec.name);
      // A reprocess or a finished step makes this run stale: nothing to do.
      if (file.status !== 'processing' || !step || (step.status !== 'pending' && step.status !== 'running')) {
        ctx.log.debug({ status: file.status, step: step?.status }, 'step no longer wanted');
        return;
      }
      await store.startStep(file.id, spec.name);
      const started = performance.now();
      const stopBeating = startHeartbeat(ctx, file.id, spec.name, ctx.options.timeoutMs);
      try {
        const bytes = await readWhole(await blobs.get(file.blobKey));
        ctx.signal.throwIfAborted();
        const produced = await spec.run({ file, bytes, ctx });
        // A result the attempt produced after its hard limit is not recorded.
        ctx.hardSignal.throwIfAborted();
        if (produced instanceof StepSkipped) {
          await store.finishStep(file.id, spec.name, { status: 'skipped', durationMs: Math.round(performance.now() - started), error: produced.reason });
          await settleFile(ctx.services, file.id, ctx.log);
          return;
        }
        const checked = spec.result.safeParse(produced);
        if (!checked.success)
          throw new NightshiftError(ErrorCodes.INTERNAL, `${spec.name} returned a result that does not match its schema: ${checked.error.message}`);
        const result = checked.data;
        const derived = spec.derivedBytes?.(result) ?? 0;
        if (derived > 0) await store.reports.addDerivedBytes(file.id, derived);
        await store.finishStep(file.id, spec.name, { status: 'completed', durationMs: Math.round(performance.now() - started), result: result });
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
      const { fileId } = ctx.data;
      const file = await store.getFile(fileId);
      const step = file?.steps.find((s) => s.name === spec.name);
      await store.finishStep(fileId, spec.name, {
        status: 'failed',
        durationMs: step?.durationMs ?? 0,
        error: error.message,
      });
      await settleFile(ctx.services, fileId, ctx.log);
    },
  });
  return { ...definition, step: true };
}

/** Whether a definition is a processing step. */
export function isStep(definition: { readonly name: string }): definition is StepDefinition<StepName> {
  return (definition as { step?: unknown }).step === true;
}

/**
 * While a step runs, tell the store (heartbeatAt, read by cleanup-stuck) and the engine (the
 * Agenda lock) that it is alive: several beats per time limit, so one slow beat is no false alarm.
 */
function startHeartbeat<N extends StepName>(ctx: JobContext<N>, fileId: string, step: StepName, timeoutMs: number): () => void {
  const everyMs = Math.min(60_000, Math.max(1_000, Math.floor(timeoutMs / 5)));
  const timer = setInterval(() => {
    Promise.all([ctx.services.store.heartbeatStep(fileId, step), ctx.heartbeat()]).catch((err: unknown) => ctx.log.debug({ err }, 'heartbeat failed'));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
