/** Share of one core the whole process (every thread) used over the next `ms`. */
export async function cpuShare(ms: number): Promise<number> {
  const a = process.cpuUsage();
  const t = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const d = process.cpuUsage(a);
  return (d.user + d.system) / 1000 / (performance.now() - t);
}
