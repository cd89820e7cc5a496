import type { JobServices } from '../engine/job.js';
import type { Logger } from '../logger.js';
import { failFile } from '../pipeline/settle.js';
import type { StepName } from '../store/types.js';

/** What cleanup needs to know of each step job. */
export interface StepLimits {
  readonly timeoutMs: number;
  readonly attempts: number;
}

export interface StuckOutcome {
  readonly reEnqueued: number;
  readonly failedStuck: number;
}

/** Steps looked at per run; the rest wait for the next run (oldest heartbeat first). */
const MAX_STEPS = 1_000;

const minutes = (ms: number) => Math.max(1, Math.round(ms / 60_000));

/**
 * Running steps with no heartbeat for longer than their time limit, or whose Agenda job was
 * locked by a dead worker: re-enqueued while attempts remain (reusing the step's Agenda job for
 * that file, so no second job appears), else the step fails "stuck" and the file fails "stuck in
 * <step> for N min and out of attempts": the owner gets `file.failed`, the admins `file.stuck`,
 * both in the same commit as the status.
 */
export async function recoverStuckSteps(
  services: JobServices,
  limits: Readonly<Record<StepName, StepLimits>>,
  deadFileJobs: ReadonlySet<string>,
  now: Date,
  log: Logger,
): Promise<StuckOutcome> {
  const { store, enqueue, notify } = services;
  const shortest = Math.min(...Object.values(limits).map((l) => l.timeoutMs));
  const candidates = await store.reports.findRunningSteps(new Date(now.getTime() - shortest), MAX_STEPS);
  // Steps whose Agenda job died but whose heartbeat is younger than the cutoff above.
  const seen = new Set(candidates.map((c) => `${c.step}:${c.fileId}`));
  for (const key of deadFileJobs) {
    if (seen.has(key)) continue;
    const [step, fileId] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
    if (!(step in limits)) continue;
    const file = await store.getFile(fileId);
    const s = file?.steps.find((x) => x.name === step);
    if (s?.status === 'running') candidates.push({ fileId, step, attempts: s.attempts, heartbeatAt: s.heartbeatAt, startedAt: s.startedAt });
  }

  let reEnqueued = 0;
  let failedStuck = 0;
  for (const c of candidates) {
    const step = c.step as StepName;
    const limit = limits[step];
    if (!limit) continue;
    const since = c.heartbeatAt ?? c.startedAt;
    const idleMs = now.getTime() - (since?.getTime() ?? 0);
    if (idleMs <= limit.timeoutMs && !deadFileJobs.has(`${step}:${c.fileId}`)) continue;
    const file = await store.getFile(c.fileId);
    if (!file || file.status !== 'processing') continue;
    const reason = `stuck — no progress for ${minutes(idleMs)} min`;
    if (c.attempts < limit.attempts) {
      await store.finishStep(file.id, step, { status: 'pending', durationMs: 0, error: reason });
      await enqueue(step, { fileId: file.id }, { uniqueBy: 'fileId' });
      log.info({ fileId: file.id, step, attempts: c.attempts, idleMs }, 'stuck step re-enqueued');
      reEnqueued++;
      continue;
    }
    await store.finishStep(file.id, step, { status: 'failed', durationMs: 0, error: reason });
    // The owner hears file.failed and the admins file.stuck, both committed with the status.
    const why = `stuck in ${step} for ${minutes(idleMs)} min and out of attempts (${c.attempts} of ${limit.attempts})`;
    const stuck = { fileId: file.id, owner: file.owner, filename: file.filename, step, since };
    const failed = await failFile(services, file.id, why, log, () => notify.plan('file.stuck', stuck));
    if (!failed) continue;
    failedStuck++;
    log.warn({ fileId: file.id, step, attempts: c.attempts, idleMs }, 'stuck file failed');
  }
  return { reEnqueued, failedStuck };
}
