import { defaults } from '../../config/defaults.js';
import { POOL_KNOBS } from '../config.js';
import type { ConfigKeyDoc } from '../config/section.js';
import { defaultOptions, JOB_KNOBS, jobEnvPrefix, type JobOptionSource } from '../engine/options.js';

const poolDefaults = { maxHeapMb: defaults.JOB_MAX_HEAP_MB, maxTasksPerWorker: defaults.JOB_MAX_TASKS_PER_WORKER, maxRssMb: defaults.JOB_MAX_RSS_MB };
import { type PeriodicJobSource, scheduleKey } from '../schedules/spec.js';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Every job's knobs as one row per job: its name, what it does, and the default of each knob. */
export function renderJobTable(jobs: ReadonlyArray<JobOptionSource & { readonly step?: boolean }>): string {
  const head = ['job', 'what it does', ...JOB_KNOBS.map((k) => `\`_${k.suffix}\``)];
  const rows = jobs.map((j) => {
    const o = defaultOptions(j.defaults);
    const shown = { ...o, concurrency: j.defaults.concurrency };
    return [`\`${j.name}\` (\`${jobEnvPrefix(j.name)}_…\`)`, cell(j.description), ...JOB_KNOBS.map((k) => String(shown[k.option]))];
  });
  const knobs = JOB_KNOBS.map((k) => `\`_${k.suffix}\`: ${k.doc}`).join('; ');
  const pools = POOL_KNOBS.map((k) => `\`_${k.suffix}\` (default ${poolDefaults[k.option]}): ${k.doc}`).join('; ');
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    `Knobs: ${knobs}. \`cores\`: one per core of the machine.`,
    '',
    `The processing steps (${jobs
      .filter((j) => j.step === true)
      .map((j) => `\`${j.name}\``)
      .join(
        ', ',
      )}) run in worker pools of their concurrency's size, with three more knobs each: ${pools}. Their pool workers run at a low CPU priority (nice 19), and together they compute at most one task per core (a larger \`_CONCURRENCY\` widens that to its size): a step's task waits for a free core rather than crowd the others, with its time limit held. A long page's OCR reads its two halves at once when a second core is free. On Node 22.16 and later the pool reads each busy worker's heap every 20 ms and ends the attempt at \`_MAX_HEAP_MB\`, with V8's own limit for the worker set past it (at its own limit V8 can abort the whole process rather than the worker); on Node 20 the cap is V8's limit.`,
  ].join('\n');
}

/** Every periodic job's schedule key with its default. */
export function scheduleRows(jobs: readonly PeriodicJobSource[]): ConfigKeyDoc[] {
  return jobs.flatMap((j) =>
    j.schedule ? [{ key: scheduleKey(j.name), default: j.schedule.every, description: `${j.name}: ${j.schedule.description}` }] : [],
  );
}
