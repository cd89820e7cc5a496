import type { HttpDeps } from '../http/deps.js';
import type { Batches } from './batches.js';
import type { Sessions } from './session.js';

/** What the console's pages are given: the HTTP deps, the sessions and the running bulk batches. */
export interface ConsoleDeps extends HttpDeps {
  readonly sessions: Sessions;
  readonly batches: Batches;
}
