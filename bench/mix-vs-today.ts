/**
 * The issue's "≥ 2 × today's images/s" against a baseline measured in the same run: the 24-image
 * mix through today's service (a checkout from before the step pools, built, given as
 * BENCH_TODAY) and through this tree's, alternating round by round, each in a `nightshift start`
 * process of its own on a fresh SQLite directory, warmed first (isolation.ts's warmService). The
 * VM's speed drifts by ±15 % within minutes; alternating puts both builds in the same minutes.
 *
 *   git worktree add /tmp/today 0b05b86^1 && (cd /tmp/today && npm ci && npm run build)
 *   BENCH_TODAY=/tmp/today node dist/bench/mix-vs-today.js          (BENCH_ROUNDS=2, BENCH_MIX=24)
 *
 * Both services read this environment (OCR_LANG_DIR set: both read the same OCR data).
 * BENCH_NOW_ENV='{"OCR_LANG_DIR":"…"}' sets more for this tree's service only: each build with
 * the settings it ships with (the image sets OCR_LANG_DIR to Debian's tessdata).
 */
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';

import { createTempDir } from '../test/helpers/env.js';
import { benchMix, runMix, warmService } from './isolation.js';
import { startServiceProcess } from './service-process.js';

const today = process.env.BENCH_TODAY;
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const nowEnv = JSON.parse(process.env.BENCH_NOW_ENV ?? '{}') as Record<string, string>;

async function once(
  cli: string | undefined,
  env: Record<string, string>,
  mix: readonly Buffer[],
  photos: readonly Buffer[],
  pages: readonly Buffer[],
): Promise<{ rate: number; cpuS: number; failed: number }> {
  const tmp = await createTempDir('ns-vs-');
  const svc = await startServiceProcess({ DATA_DIR: tmp.dir, POLL_INTERVAL_MS: '1000', ...env }, cli);
  try {
    await warmService(svc.url, photos, pages);
    const cpu0 = svc.cpuS();
    const { ms, failed } = await runMix(svc.url, mix);
    return { rate: mix.length / (ms / 1000), cpuS: svc.cpuS() - cpu0, failed: failed.length };
  } finally {
    await svc.stop();
    await tmp.remove();
  }
}

if (process.argv[1]?.endsWith('mix-vs-today.js')) {
  const todayCli = today ? join(today, 'dist/src/cli.js') : undefined;
  if (!todayCli || !existsSync(todayCli)) {
    console.log('BENCH_TODAY must name a built checkout from before the step pools (see the header of bench/mix-vs-today.ts)');
    process.exit(2);
  }
  console.log(
    `mix vs today: ${availableParallelism()} cores, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, today = ${today}${Object.keys(nowEnv).length ? `, now with ${JSON.stringify(nowEnv)}` : ''}`,
  );
  const { photos, pages, mix } = await benchMix();
  const rates: { today: number[]; now: number[] } = { today: [], now: [] };
  for (let r = 1; r <= rounds; r++) {
    // Alternate which goes first, so neither always gets the fresher minute.
    const order = r % 2 ? (['today', 'now'] as const) : (['now', 'today'] as const);
    for (const build of order) {
      const res = await once(build === 'today' ? todayCli : undefined, build === 'today' ? {} : nowEnv, mix, photos, pages);
      rates[build].push(res.rate);
      console.log(
        `round ${r}, ${build.padEnd(5)}: ${res.rate.toFixed(2)} images/s, ${res.cpuS.toFixed(1)} CPU-s${res.failed ? `, ${res.failed} not completed` : ''}`,
      );
    }
  }
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  console.log(
    `mix of ${mix.length}: today ${mean(rates.today).toFixed(2)} images/s, now ${mean(rates.now).toFixed(2)} images/s = ${(mean(rates.now) / mean(rates.today)).toFixed(2)} × today (per round: ${rates.now.map((n, i) => (n / (rates.today[i] ?? n)).toFixed(2)).join(', ')})`,
  );
  process.exit(0);
}
