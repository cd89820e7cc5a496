import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, test } from 'node:test';

import { loadConfig } from '../../src/registry.js';

const root = join(import.meta.dirname, '..', '..', '..');
const dir = join(root, 'deploy', 'systemd');
const UNITS = { api: 'nightshift-api.service', worker: 'nightshift-worker@.service' } as const;

const hasAnalyze = (process.env.PATH ?? '').split(delimiter).some((d) => d !== '' && existsSync(join(d, 'systemd-analyze')));
const SKIP_NO_ANALYZE = hasAnalyze ? false : 'skipped: systemd-analyze is not installed (apt-get install systemd); the units are still parsed below';

/** `[Section]` → key → values (a key may repeat, as Environment= does). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line)?.[1];
    if (section !== undefined) {
      current = new Map();
      sections.set(section, current);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(current && eq > 0, `not a key=value line inside a section: ${line}`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return sections;
}

/** systemd's time span for TimeoutStopSec: "30s", "1min 30s", "90" (seconds). */
function seconds(span: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, sec: 1, m: 60, min: 60, h: 3600 };
  let total = 0;
  for (const m of span.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]*)/g)) total += Number(m[1]) * (units[m[2] || 's'] ?? Number.NaN);
  return total;
}

function envFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

describe('systemd units', () => {
  test('systemd-analyze verify accepts both units without a warning', { skip: SKIP_NO_ANALYZE }, () => {
    const r = spawnSync('systemd-analyze', ['verify', ...Object.values(UNITS).map((u) => join(dir, u))], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // verify exits 0 on unknown keys and bad values, and says so on stderr.
    assert.equal(r.stderr.trim(), '');
  });

  for (const [role, unit] of Object.entries(UNITS)) {
    test(`${unit}: the ${role} role as a dedicated user, always restarted, memory-capped, stopped after the drain`, () => {
      const sections = parseUnit(readFileSync(join(dir, unit), 'utf8'));
      const service = sections.get('Service');
      assert.ok(service, '[Service]');
      const one = (key: string) => {
        const v = service.get(key);
        assert.equal(v?.length, 1, `${key}= once`);
        return v[0] ?? '';
      };
      assert.match(one('ExecStart'), new RegExp(`dist/src/cli\\.js start --role ${role}$`));
      assert.equal(one('Restart'), 'always');
      assert.match(one('MemoryMax'), /^\d+[KMG]$/);
      assert.notEqual(one('User'), 'root');
      assert.equal(one('User'), 'nightshift');
      assert.equal(one('KillSignal'), 'SIGTERM');
      assert.ok(one('EnvironmentFile').startsWith('/etc/nightshift/'));
      assert.equal(sections.get('Install')?.get('WantedBy')?.[0], 'multi-user.target');

      // The env file example's SHUTDOWN_TIMEOUT_MS (and the built-in default) must end before systemd's SIGKILL.
      const example = envFile(join(dir, 'nightshift.env.example'));
      const config = loadConfig({ ...example, API_TOKEN: 'a-token-of-16-chars' }, role === 'api' ? 'api' : 'worker');
      const defaults = loadConfig({}, 'worker');
      const stopSec = seconds(one('TimeoutStopSec'));
      assert.ok(
        stopSec * 1000 > config.shutdownTimeoutMs && stopSec * 1000 > defaults.shutdownTimeoutMs,
        `TimeoutStopSec ${stopSec} s vs ${config.shutdownTimeoutMs} ms`,
      );
    });
  }

  test('the dedicated user is declared for systemd-sysusers', () => {
    const lines = readFileSync(join(dir, 'nightshift.sysusers.conf'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'));
    assert.ok(
      lines.some((l) => /^u\s+nightshift\s/.test(l)),
      lines.join('\n'),
    );
  });
});
