import { type ConfigTableRow, renderConfigTable } from '../src/docs/config-table.js';
import { renderJobTable, scheduleRows } from '../src/docs/readme.js';
import type { NotifierDefinition } from '../src/notify/notifier.js';
import { notifyConfigKeys } from '../src/notify/rules.js';
import { registry } from '../src/registry.js';

/** The notify-rules variables, then each notifier's block, as its definition documents them. */
export function notifierConfigRows(definitions: readonly NotifierDefinition[]): ConfigTableRow[] {
  const rows: ConfigTableRow[] = [{ heading: 'notifications' }, ...notifyConfigKeys(definitions)];
  for (const d of definitions) {
    if (d.configKeys.length === 0) continue;
    const owners = d.ownerAddress ? `owners: \`${d.ownerAddress.field}\`` : 'admins and tests only (no owner address)';
    rows.push({ heading: d.name, note: owners }, ...d.configKeys);
  }
  return rows;
}

/** Every generated block of README.md, by name, made from the registry's definitions. */
export function readmeBlocks(): Record<string, string> {
  return {
    'notifier-config': renderConfigTable(notifierConfigRows(registry.notifiers)),
    schedules: renderConfigTable(scheduleRows(registry.jobs)),
    'job-knobs': renderJobTable(registry.jobs),
  };
}
