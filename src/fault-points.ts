/**
 * Test-only crash points. `NIGHTSHIFT_TEST_FAULT=<point>` makes the process SIGKILL itself when
 * it reaches that point, so a test can show what a crash exactly there leaves behind (the
 * transactional outbox test kills the service between a file's commit and its delivery jobs).
 * Unset — always, outside tests — a point does nothing. Not a config key: never set it in a
 * deployment.
 */
export type FaultPoint =
  /** A file's final status and its outbox rows are committed; their delivery jobs are not scheduled yet. */
  'crash-after-settle-commit';

const armed = process.env.NIGHTSHIFT_TEST_FAULT;

export function faultPoint(point: FaultPoint): void {
  // SIGKILL, like the OOM killer or `kill -9`: no handler, no drain, no flush.
  if (armed === point) process.kill(process.pid, 'SIGKILL');
}
