/**
 * Discovery on a bucket without file events (src/watch/remote/checkpoint-polling.ts), on the real
 * Ceph gateway: what polling a log directory of 100 runs costs in requests per minute, that a
 * quiet run's new checkpoint is still found, and that a manifest uploaded after its files (it
 * sorts before them) is not missed. Time is simulated: the poller is given its clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkpointDirName } from '../../src/model/checkpoint/format.ts';
import { S3Storage, parseS3Url } from '../../src/storage/index.ts';
import { writeWithManifest } from '../../src/storage/manifest.ts';
import { BucketListing } from '../../src/watch/remote/bucket-listing.ts';
import { CheckpointPolling } from '../../src/watch/remote/checkpoint-polling.ts';
import { needs } from '../helpers/requirements.ts';
import { createTestBucket } from '../helpers/s3.ts';

const skip = needs('s3');
const POLL_MS = 10_000;

function upload(storage: S3Storage, run: string, step: number): Promise<unknown> {
  const files = new Map([['checkpoint.json', Buffer.from(JSON.stringify({ step }))]]);
  return writeWithManifest(storage, `${run}/checkpoints/${checkpointDirName(step)}`, files);
}

test(
  'polling 100 runs costs few requests per minute once they are quiet, and still finds what is new',
  { skip },
  async (t) => {
    const bucket = await createTestBucket();
    t.after(() => bucket.remove());
    const storage = new S3Storage(parseS3Url(bucket.url('logs')));
    const runs = Array.from({ length: 100 }, (_, i) => `run-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < runs.length; i += 20)
      await Promise.all(runs.slice(i, i + 20).map((run) => upload(storage, run, 100)));

    const listing = new BucketListing(storage);
    const polling = new CheckpointPolling(listing, POLL_MS);
    let now = 0;
    const first = await polling.poll(now);
    assert.equal(first.size, 100);
    assert.ok([...first.values()].every((steps) => steps.length === 1 && steps[0] === 100));

    // Ten quiet minutes; the last five are the steady state.
    let before = 0;
    for (let k = 1; k <= 60; k++) {
      now = k * POLL_MS;
      if (k === 31) before = listing.requests;
      assert.equal((await polling.poll(now)).size, 0);
    }
    const perMinute = (listing.requests - before) / 5;
    t.diagnostic(`quiet log directory of 100 runs, polled every ${POLL_MS / 1000} s: ${perMinute} requests per minute`);
    // Every run listed at every poll would be 6 × 101 = 606 a minute.
    assert.ok(perMinute <= 50, `${perMinute} requests per minute`);

    // A quiet run's new checkpoint is found within its slowed-down interval (16 polls).
    await upload(storage, 'run-042', 200);
    let found: number[] | undefined;
    for (let k = 1; k <= 16 && !found; k++) {
      now += POLL_MS;
      found = (await polling.poll(now)).get('run-042');
    }
    assert.deepEqual(found, [200]);

    // Files first, the manifest later: `manifest.json` sorts before `weights.bin`, and is still seen.
    await storage.write('run-007/checkpoints/step-000000300/weights.bin', 'w');
    await storage.write('run-007/checkpoints/step-000000300/checkpoint.json', '{}');
    let seen: number[] | undefined;
    for (let k = 1; k <= 16 && !seen; k++) {
      now += POLL_MS;
      seen = (await polling.poll(now)).get('run-007');
    }
    assert.equal(seen, undefined, 'not complete without its manifest');
    await storage.write('run-007/checkpoints/step-000000300/manifest.json', '{}');
    now += POLL_MS;
    assert.deepEqual(
      (await polling.poll(now)).get('run-007'),
      [300],
      'a run with a checkpoint in progress is listed at every poll',
    );
  },
);
