import { connect, type Socket } from 'node:net';

/** A real TCP client that writes exactly what it is told, when it is told: for slow and hostile clients. */
export interface RawClient {
  readonly socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  write(data: string | Buffer): Promise<void>;
  /** Resolves with ms since `since` when the server closes (or resets) the connection. */
  closed(since: number): Promise<number>;
  destroy(): void;
}

export async function rawClient(url: string): Promise<RawClient> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let data = '';
  socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
  // A reset from the server is a close too.
  socket.on('error', () => undefined);
  const done = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
  return {
    socket,
    received: () => data,
    write: (chunk) => new Promise<void>((resolve, reject) => socket.write(chunk, (err) => (err ? reject(err) : resolve()))),
    closed: async (since) => (await done) - since,
    destroy: () => socket.destroy(),
  };
}

export const BOUNDARY = 'nightshiftRawBoundary';

/** Request head and the start of a multipart body for one `file` part, declaring `declaredLength` bytes in all. */
export function multipartHead(url: string, path: string, declaredLength: number, headers: Record<string, string> = {}): string {
  const { host } = new URL(url);
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return (
    `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\n` +
    `Content-Length: ${declaredLength}\r\nConnection: keep-alive\r\n${extra}\r\n` +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="slow.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`
  );
}
