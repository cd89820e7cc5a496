import { createHmac, timingSafeEqual } from 'node:crypto';

import type { Config } from '../config.js';

/** The owner segment of the summaries routes for the all-owners report. */
export const ALL_OWNERS = '*';

function signature(secret: string, owner: string, date: string): string {
  return createHmac('sha256', secret).update(`summary-chart\u0000${owner}\u0000${date}`).digest('base64url').slice(0, 32);
}

/**
 * The chart's public URL, for LINE (which fetches images itself, without our token): only when
 * PUBLIC_URL is https. With API_TOKEN set the URL carries an HMAC of owner and date keyed by the
 * token, so it works without the token yet cannot be guessed for another owner or day.
 */
export function chartUrl(config: Pick<Config, 'publicUrl' | 'apiToken'>, owner: string | null, date: string): string | undefined {
  if (!config.publicUrl?.startsWith('https://')) return undefined;
  const who = owner ?? ALL_OWNERS;
  const sig = config.apiToken ? `&sig=${signature(config.apiToken, who, date)}` : '';
  return `${config.publicUrl}/api/v1/summaries/${encodeURIComponent(who)}/chart.png?date=${date}${sig}`;
}

export function verifyChartSignature(secret: string, owner: string, date: string, sig: string): boolean {
  const want = Buffer.from(signature(secret, owner, date));
  const got = Buffer.from(sig);
  return want.length === got.length && timingSafeEqual(want, got);
}
