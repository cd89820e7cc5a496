import type { Agenda } from 'agenda';

import type { BlobStore } from '../blobs/types.js';
import type { Config } from '../config.js';
import type { Enqueue } from '../engine/job.js';
import type { FaultMonitor } from '../faults.js';
import type { LinkSigner } from '../links.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
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
  /** The service's metrics: served at GET /metrics when present; uploads count their bytes. */
  readonly metrics?: Metrics | undefined;
  /** Store-down and disk-full state: the error handler reports to it, /readyz reads it. */
  readonly faults?: FaultMonitor | undefined;
  /** Directories whose free space /readyz checks (DATA_DIR, the local blob directory). */
  readonly disks?: readonly string[] | undefined;
  /** The operator's controls and bulk work (workers, pauses, reprocess, stats routes). */
  readonly ops: Operations;
  /** Signs and checks the expiring links put in messages (thumbnail, original, a file's console page, the chart). */
  readonly links: LinkSigner;
  /** Every notifier of the registry: the API's channel enums and owner addresses, and their own routes. */
  readonly notifiers: readonly NotifierDefinition[];
}

/** What the files routes are given (a subset of HttpDeps). */
export interface FileRouteDeps {
  readonly config: Config;
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly enqueue: Enqueue;
  /** Queued jobs of a force-deleted file are cancelled through it. */
  readonly agenda?: Pick<Agenda, 'cancel'> | undefined;
  readonly metrics?: Pick<Metrics, 'uploadBytes'> | undefined;
}
