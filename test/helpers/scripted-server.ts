import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What every scripted loopback server offers its tests, whatever it checks. */
export interface ScriptedServer<A> {
  /** `http://127.0.0.1:port` — append any path. */
  readonly origin: string;
  /** Every request that reached the server, whatever it answered. */
  attempts(): number;
  /** Answer the next requests with these, in order. */
  answerNext(...answers: A[]): void;
  /** Always answer this path with this. */
  answerPath(path: string, answer: A): void;
  /** Accept and never answer, until turned off or closed. */
  hang(on: boolean): void;
  openConnections(): number;
  close(): Promise<void>;
}

/**
 * An HTTP server on 127.0.0.1 (random port) that reads each request's body and hands it to
 * `respond`, with `scripted()` giving the answer a test scripted for it (by path, else the next
 * queued one) — called only where the server would take one, so a refused request leaves the
 * queue alone. Counting, hanging, open sockets and closing are the same for every such server.
 */
export async function startScriptedServer<A>(
  respond: (req: IncomingMessage, body: Buffer, res: ServerResponse, scripted: () => A | undefined) => void,
): Promise<ScriptedServer<A>> {
  const queue: A[] = [];
  const byPath = new Map<string, A>();
  const sockets = new Set<Socket>();
  let hanging = false;
  let attempts = 0;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      attempts += 1;
      if (hanging) return;
      respond(req, Buffer.concat(chunks), res, () => byPath.get(req.url ?? '/') ?? queue.shift());
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    attempts: () => attempts,
    answerNext: (...answers) => void queue.push(...answers),
    answerPath: (path, answer) => void byPath.set(path, answer),
    hang(on) {
      hanging = on;
    },
    openConnections: () => sockets.size,
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
