import { defaultOptions, JOB_KNOBS, jobEnvPrefix, type JobOptionSource } from '../engine/options.js';
import type { ConfigKeyDoc } from '../config/section.js';
import { scheduleKey, type PeriodicJobSource } from '../schedules/spec.js';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Every job's knobs as one row per job: its name, what it does, and the default of each knob. */
export function renderJobTable(jobs: readonly JobOptionSource[]): string {
  const head = ['job', 'what it does', ...JOB_KNOBS.map((k) => `\`_${k.suffix}\``)];
  const rows = jobs.map((j) => {
    const o = defaultOptions(j.defaults);
    return [`\`${j.name}\` (\`${jobEnvPrefix(j.name)}_…\`)`, cell(j.description), ...JOB_KNOBS.map((k) => String(o[k.option]))];
  });
  const knobs = JOB_KNOBS.map((k) => `\`_${k.suffix}\`: ${k.doc}`).join('; ');
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`), '', `Knobs: ${knobs}.`].join('\n');
}

/** Every periodic job's schedule key with its default. */
export function scheduleRows(jobs: readonly PeriodicJobSource[]): ConfigKeyDoc[] {
  return jobs.flatMap((j) => (j.schedule ? [{ key: scheduleKey(j.name), default: j.schedule.every, description: `${j.name}: ${j.schedule.description}` }] : []));
}
