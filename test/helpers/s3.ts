/**
 * A bucket of its own for each test, on the endpoint the environment names (CI: the Ceph gateway
 * from ../shared/tools/ceph/s3-up.sh), so parallel test files and other runs never collide.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
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

/** Whether `radosgw-admin` can reach the gateway (s3-up.sh exports CEPH_CONF), as `readOnlyUser` needs. */
export const skipWithoutRadosgwAdmin = (): string | false =>
  process.env.CEPH_CONF ? false : 'needs CEPH_CONF (radosgw-admin) from s3-up.sh';

/**
 * A gateway user that may read `bucket` and not write it (radosgw-admin and a bucket policy),
 * removed when the test ends.
 */
export async function readOnlyUser(
  t: { after(fn: () => void): void },
  bucket: TestBucket,
): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const uid = `reader-${randomBytes(4).toString('hex')}`;
  const accessKeyId = `${uid}-key`;
  const secretAccessKey = `${uid}-secret-${randomBytes(8).toString('hex')}`;
  const create = ['user', 'create', `--uid=${uid}`, `--display-name=${uid}`, `--access-key=${accessKeyId}`];
  execFileSync('radosgw-admin', [...create, `--secret-key=${secretAccessKey}`]);
  t.after(() => execFileSync('radosgw-admin', ['user', 'rm', `--uid=${uid}`]));
  const policy = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: [`arn:aws:iam:::user/${uid}`] },
        Action: ['s3:GetObject', 's3:ListBucket'],
        Resource: [`arn:aws:s3:::${bucket.name}`, `arn:aws:s3:::${bucket.name}/*`],
      },
    ],
  };
  await bucket.client.send(new PutBucketPolicyCommand({ Bucket: bucket.name, Policy: JSON.stringify(policy) }));
  return { accessKeyId, secretAccessKey };
}
