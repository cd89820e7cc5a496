import type { Agenda } from 'agenda';
import type { Registry } from 'prom-client';

import type { BlobStore } from '../blobs/types.js';
import type { Config } from '../config.js';
import type { Enqueue } from '../engine/job.js';
import type { Logger } from '../logger.js';
import type { NotifyHub } from '../notify/hub.js';
import type { NotifierDefinition } from '../notify/notifier.js';
import type { Operations } from '../ops/index.js';
import type { Store } from '../store/types.js';

/** What the HTTP routes are given. */
export interface HttpDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly agenda: Agenda;
  readonly enqueue: Enqueue;
  readonly notify: NotifyHub;
  /** The operator's controls and bulk work (workers, pauses, reprocess, stats routes). */
  readonly ops: Operations;
  /** The stats gauges (worker roles): served at GET /metrics when present. */
  readonly metrics?: Registry | undefined;
  /** Every notifier of the registry: the API's channel enums and owner addresses, and their own routes. */
  readonly notifiers: readonly NotifierDefinition[];
}
