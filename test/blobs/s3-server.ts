import type { AddressInfo } from 'node:net';

import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

import { s3ClientConfig } from '../../src/blobs/s3.js';
import type { S3StorageConfig } from '../../src/config.js';
import { createTempDir, randomName } from '../helpers/env.js';

/** s3rver's fixed credentials: it checks request signatures against these. */
const ACCESS_KEY = 'S3RVER';
const SECRET_KEY = 'S3RVER';

export interface TestS3Server {
  readonly endpoint: string;
  /** A storage config for a fresh bucket on this server. */
  storage(prefix?: string): Promise<S3StorageConfig>;
  stop(): Promise<void>;
}

/** A real S3-protocol server (s3rver) on a random loopback port, keeping its objects in a temp dir. */
export async function startS3Server(): Promise<TestS3Server> {
  const tmp = await createTempDir('nightshift-s3rver-');
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: tmp.dir, vhostBuckets: false });
  const address: AddressInfo = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    async storage(prefix = '') {
      const bucket = randomName('ns-test').replace(/_/g, '-');
      const config: S3StorageConfig = {
        kind: 's3',
        bucket,
        prefix,
        endpoint,
        forcePathStyle: true,
        region: 'us-east-1',
        accessKeyId: ACCESS_KEY,
        secretAccessKey: SECRET_KEY,
      };
      const client = new S3Client(s3ClientConfig(config));
      try {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
      } finally {
        client.destroy();
      }
      return config;
    },
    async stop() {
      await server.close();
      await tmp.remove();
    },
  };
}
