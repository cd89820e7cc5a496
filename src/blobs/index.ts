import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { LocalBlobStore } from './local.js';
import type { BlobStore } from './types.js';

export { assertValidKey, assertValidPrefix, isValidKey } from './keys.js';
export { LocalBlobStore, type LocalBlobStoreOptions } from './local.js';
export type { BlobInfo, BlobStore, GetOptions, PutOptions } from './types.js';

/**
 * Open the blob store the config names: a local directory (created if missing) or an S3 bucket.
 * Neither is contacted beyond that; call `ping()` to check the storage can be reached.
 */
export async function createBlobStore(storage: Config['storage'], options: { log: Logger }): Promise<BlobStore> {
  const log = options.log.child({ component: 'blobs' });
  if (storage.kind === 'local') {
    const store = await LocalBlobStore.open({ dir: storage.dir, log });
    log.debug({ dir: store.root }, 'blob store: local directory');
    return store;
  }
  // The AWS SDK loads only when S3 is configured.
  const { S3BlobStore } = await import('./s3.js');
  const store = new S3BlobStore(storage, { log });
  log.debug({ bucket: storage.bucket, prefix: storage.prefix, endpoint: storage.endpoint }, 'blob store: S3');
  return store;
}
