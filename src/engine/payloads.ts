import type { ChannelName } from '../notify/notifier.js';
import type { StepName } from '../store/types.js';

/** Every processing step's job takes the file it works on (see src/pipeline/step.ts). */
type StepPayloads = { readonly [N in StepName]: { fileId: string } };
/** One delivery job per channel takes the outbox row it sends (see src/notify/delivery.ts). */
type DeliveryPayloads = { readonly [C in ChannelName as `deliver-${C}`]: { notificationId: string } };

/**
 * Payload of every job, keyed by job name. Each job file adds its own entry, inferred from its
 * payload schema (`declare module '…/engine/payloads.js' { interface JobPayloads { 'quota-check': … } }`),
 * and every step is in it by its name, so `enqueue('thumbnail', { fileId })` is type-checked
 * and the map is never written twice.
 */

export interface JobPayloads extends StepPayloads, DeliveryPayloads {}
export type JobName = keyof JobPayloads & string;

export interface EnqueueOptions {
  /** Run at this time instead of now. */
  readonly runAt?: Date | undefined;
  /**
   * Payload field that identifies the job: enqueueing again with the same value updates the
   * one existing job (its run time) instead of adding another.
   */
  readonly uniqueBy?: string | undefined;
}

export type Enqueue = <N extends JobName>(name: N, payload: JobPayloads[N], options?: EnqueueOptions) => Promise<void>;
