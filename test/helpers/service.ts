import type { Role } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { loadConfig } from '../../src/registry.js';
import { type Service, startService } from '../../src/service.js';

/** Start a real nightshift in this process on a random loopback port. */
export async function startTestService(env: Record<string, string | undefined>, role: Role = 'all'): Promise<Service & { url: string }> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent', POLL_INTERVAL_MS: '500', ...env }, role);
  const service = await startService(config, createLogger(config.logLevel));
  return Object.assign(service, { url: service.url ?? '' });
}

export interface ApiFile {
  id: string;
  owner: string | null;
  filename: string;
  contentType: string;
  size: number;
  status: 'uploaded' | 'processing' | 'completed' | 'failed';
  steps: Record<string, { status: string; attempts: number; durationMs: number | null; error: string | null }>;
  result: Record<string, unknown> | null;
  error: string | null;
}

export async function upload(
  baseUrl: string,
  bytes: Buffer,
  filename: string,
  options: { owner?: string; contentType?: string; token?: string } = {},
): Promise<{ status: number; body: ApiFile & { error?: unknown } }> {
  const form = new FormData();
  if (options.owner) form.append('owner', options.owner);
  form.append('file', new Blob([bytes], { type: options.contentType ?? 'application/octet-stream' }), filename);
  const res = await fetch(`${baseUrl}/api/v1/files`, {
    method: 'POST',
    body: form,
    headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
  });
  return { status: res.status, body: (await res.json()) as ApiFile };
}

export async function getFile(baseUrl: string, id: string, token?: string): Promise<ApiFile> {
  const res = await fetch(`${baseUrl}/api/v1/files/${id}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (res.status !== 200) throw new Error(`GET file ${id}: ${res.status} ${await res.text()}`);
  return (await res.json()) as ApiFile;
}

/** Poll until the file reaches completed or failed (or the deadline passes). */
export async function waitForFinal(baseUrl: string, id: string, timeoutMs = 60_000, token?: string): Promise<ApiFile> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const file = await getFile(baseUrl, id, token);
    if (file.status === 'completed' || file.status === 'failed') return file;
    if (Date.now() > deadline) throw new Error(`file ${id} still ${file.status} after ${timeoutMs} ms: ${JSON.stringify(file.steps)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
