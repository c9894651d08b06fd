/**
 * A bucket of its own for each test, on the endpoint the environment names (CI: the Ceph gateway
 * from ../shared/tools/ceph/s3-up.sh), so parallel test files and other runs never collide.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { s3ClientConfig } from '../../src/storage/index.ts';

export interface TestBucket {
  name: string;
  /** `s3://name/prefix` */
  url(prefix?: string): string;
  client: S3Client;
  /** Deletes every object and the bucket. */
  remove(): Promise<void>;
}

export async function createTestBucket(): Promise<TestBucket> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const client = new S3Client(s3ClientConfig());
  const name = `et-test-${randomBytes(6).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: name }));
  const remove = async () => {
    for (;;) {
      const page = await client.send(new ListObjectsV2Command({ Bucket: name }));
      const keys = (page.Contents ?? []).map((object) => ({ Key: object.Key! }));
      if (keys.length === 0) break;
      await client.send(new DeleteObjectsCommand({ Bucket: name, Delete: { Objects: keys } }));
    }
    await client.send(new DeleteBucketCommand({ Bucket: name }));
    client.destroy();
  };
  return { name, url: (prefix = 'logs') => `s3://${name}/${prefix}`, client, remove };
}
