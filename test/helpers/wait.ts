const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `probe` every 100 ms until it gives a value (not undefined or false); fail after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false> | T | undefined | false): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}
