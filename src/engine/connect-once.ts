/**
 * connect()/disconnect() for a backend whose connect may be called more than once: by us before
 * Agenda's constructor (to see a connection error, which Agenda would swallow) and by Agenda
 * itself. A failed connect can be tried again; a disconnect allows a later connect.
 */
export function connectOnce(connect: () => Promise<void>, disconnect: () => Promise<void>): { connect(): Promise<void>; disconnect(): Promise<void> } {
  let connected: Promise<void> | undefined;
  return {
    connect: () =>
      (connected ??= connect().catch((err: unknown) => {
        connected = undefined;
        throw err;
      })),
    async disconnect() {
      connected = undefined;
      await disconnect();
    },
  };
}
