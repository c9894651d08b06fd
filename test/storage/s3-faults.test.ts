/**
 * What a user sees when S3 goes wrong, against the real Ceph gateway: one line each for a missing
 * bucket, wrong credentials and a read-only key (never the secret), and an endpoint that goes
 * away mid-upload and comes back (a TCP proxy in front of the gateway is cut and restored).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { isTransientError, isUserError } from '../../src/errors.ts';
import { S3Storage, configuredEndpoint, parseS3Url, s3ClientConfig } from '../../src/storage/index.ts';
import { needs } from '../helpers/requirements.ts';
import { createTestBucket, readOnlyUser, skipWithoutRadosgwAdmin } from '../helpers/s3.ts';
import { CuttableProxy } from '../helpers/cuttable-proxy.ts';

const skip = needs('s3');

function clientWith(overrides: Partial<ConstructorParameters<typeof S3Client>[0] & object>): S3Client {
  return new S3Client({ ...s3ClientConfig(), ...overrides });
}

const oneLine = (pattern: RegExp, secret?: string) => (error: unknown) => {
  assert.ok(isUserError(error), `expected a UserError, got ${String(error)}`);
  assert.match(error.message, pattern);
  assert.ok(!error.message.includes('\n'), error.message);
  if (secret) assert.ok(!error.message.includes(secret), 'the secret must never be printed');
  return true;
};

test('a missing bucket is one line that names it and says how to create it', { skip }, async () => {
  const storage = new S3Storage(parseS3Url('s3://et-missing-bucket-7f3a/logs'));
  await assert.rejects(
    storage.write('run/a', 'x'),
    oneLine(/bucket 'et-missing-bucket-7f3a' does not exist.*aws s3 mb/),
  );
  await assert.rejects(storage.list(''), oneLine(/^cannot list .*does not exist/));
});

test('wrong credentials are one line naming the settings to check, never the keys', { skip }, async (t) => {
  const bucket = await createTestBucket();
  t.after(() => bucket.remove());
  const secret = `wrong-secret-${randomBytes(8).toString('hex')}`;
  const wrongSecret = new S3Storage(parseS3Url(bucket.url()), {
    client: clientWith({ credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID!, secretAccessKey: secret } }),
  });
  await assert.rejects(wrongSecret.write('a', 'x'), oneLine(/SignatureDoesNotMatch.*AWS_SECRET_ACCESS_KEY/, secret));
  const unknownKey = `UNKNOWN${randomBytes(6).toString('hex')}`;
  const wrongKey = new S3Storage(parseS3Url(bucket.url()), {
    client: clientWith({ credentials: { accessKeyId: unknownKey, secretAccessKey: secret } }),
  });
  await assert.rejects(wrongKey.read('a'), oneLine(/does not know this access key.*AWS_ACCESS_KEY_ID/, secret));
});

test(
  'a read-only key reads, and its writes are one line saying the key may not write',
  { skip: skip || skipWithoutRadosgwAdmin() },
  async (t) => {
    const bucket = await createTestBucket();
    t.after(() => bucket.remove());
    const { accessKeyId, secretAccessKey } = await readOnlyUser(t, bucket);
    const owner = new S3Storage(parseS3Url(bucket.url()));
    await owner.write('run/state.json', '{"frames":1}');
    const reader = new S3Storage(parseS3Url(bucket.url()), {
      client: clientWith({ credentials: { accessKeyId, secretAccessKey } }),
    });
    assert.equal((await reader.read('run/state.json')).toString(), '{"frames":1}');
    assert.deepEqual(
      (await reader.list('run/')).map((info) => info.key),
      ['run/state.json'],
    );
    await assert.rejects(
      reader.write('run/state.json', '{}'),
      oneLine(/^cannot write .*access denied; this key may not write there/, secretAccessKey),
    );
    assert.equal((await owner.read('run/state.json')).toString(), '{"frames":1}');
  },
);

test(
  'the endpoint cut mid-upload and back: one line while away, one when back, the object whole',
  { skip },
  async (t) => {
    const bucket = await createTestBucket();
    t.after(() => bucket.remove());
    const proxy = new CuttableProxy(new URL(configuredEndpoint()!));
    await proxy.start();
    t.after(() => proxy.cut());
    const lines: string[] = [];
    const endpoint = `http://127.0.0.1:${proxy.port}`;
    const storage = new S3Storage(parseS3Url(bucket.url()), {
      client: clientWith({ endpoint, maxAttempts: 1 }),
      endpoint,
      notify: (line) => lines.push(line),
      firstDelayMs: 100,
    });
    const data = randomBytes(8 << 20);
    let restored: Promise<void> | undefined;
    proxy.onUpstreamBytes = (total) => {
      if (total < 2 << 20 || restored) return;
      proxy.cut();
      restored = new Promise((resolve) => setTimeout(resolve, 1500)).then(() => proxy.start());
    };
    await storage.write('run/frame.bin', data);
    assert.ok(restored, 'the proxy was cut during the upload');
    const read = await storage.read('run/frame.bin');
    assert.equal(createHash('sha256').update(read).digest('hex'), createHash('sha256').update(data).digest('hex'));
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(
      lines[0]!,
      /^s3: http:\/\/127\.0\.0\.1:\d+ is not answering \(\w+\) on write s3:\/\/.*retrying with backoff/,
    );
    assert.match(lines[1]!, /answers again after \d+\.\d s/);
  },
);

test('an endpoint that stays away ends in one transient line after the retry time', { skip }, async (t) => {
  const proxy = new CuttableProxy(new URL(configuredEndpoint()!));
  await proxy.start();
  proxy.cut(); // a port that was just in use and now refuses
  const lines: string[] = [];
  const endpoint = `http://127.0.0.1:${proxy.port}`;
  const storage = new S3Storage(parseS3Url('s3://et-never/logs'), {
    client: clientWith({ endpoint, maxAttempts: 1 }),
    endpoint,
    notify: (line) => lines.push(line),
    retryForMs: 1200,
    firstDelayMs: 100,
  });
  t.after(() => storage.client.destroy());
  await assert.rejects(storage.read('run/state.json'), (error) => {
    assert.ok(isTransientError(error));
    assert.match(
      error.message,
      /^cannot read s3:\/\/et-never\/logs\/run\/state.json: .* did not answer for 1 s \(ECONNREFUSED\)/,
    );
    return true;
  });
  assert.equal(lines.length, 1, lines.join('\n'));
});
