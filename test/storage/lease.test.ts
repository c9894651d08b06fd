/**
 * Leases between holders that share nothing but the store (as if on two machines), on a local
 * folder and on the real Ceph gateway: one holds and renews, the other waits; the waiter takes
 * over only after the holder stops renewing and its lease expires, or at once on release.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage, storageFor, type Storage } from '../../src/storage/index.ts';
import { Lease, type LeaseOptions } from '../../src/storage/lease.ts';
import { needs } from '../helpers/requirements.ts';
import { createTestBucket } from '../helpers/s3.ts';
import { until } from '../helpers/cli.ts';

async function localStorage(t: TestContext): Promise<Storage> {
  const dir = await mkdtemp(join(tmpdir(), 'lease-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return new LocalStorage(dir);
}

async function s3Storage(t: TestContext): Promise<Storage> {
  const bucket = await createTestBucket();
  t.after(() => bucket.remove());
  return storageFor(bucket.url('logs'));
}

/** Tracks whether an acquire has settled yet. */
function watch(acquiring: Promise<Lease>): { settled: () => boolean; lease: Promise<Lease> } {
  let settled = false;
  const lease = acquiring.finally(() => {
    settled = true;
  });
  return { settled: () => settled, lease };
}

const KEY = 'run_a/watcher.lease';

for (const [kind, make, skip] of [
  ['local', localStorage, false],
  ['s3', s3Storage, needs('s3')],
] as const) {
  test(
    `${kind}: the second holder waits while the first renews, and takes over once it stops and expires`,
    { skip, timeout: 60_000 },
    async (t) => {
      const storage = await make(t);
      const lines: string[] = [];
      const options: LeaseOptions = { ttlMs: 1500, renewEveryMs: 300, pollMs: 100, notify: (line) => lines.push(line) };
      const first = await Lease.acquire(storage, KEY, { ...options, owner: 'machine-a' });
      t.after(() => first.abandon());
      const second = watch(Lease.acquire(storage, KEY, { ...options, owner: 'machine-b' }));
      // Several renewals, each longer apart than the poll interval and together longer than the TTL.
      await until('the first holder to renew 8 times', () => first.renewals >= 8, 30);
      assert.equal(second.settled(), false, 'the waiter must not take a lease that is being renewed');
      assert.equal(first.lost, false);
      assert.ok(
        lines.some((line) => /is held by machine-a; waiting until it is released or expires \(2 s/.test(line)),
        lines.join('\n'),
      );

      first.abandon(); // as if its machine died
      const renewalsAtStop = first.renewals;
      const taken = await second.lease;
      t.after(() => taken.release());
      const body = JSON.parse((await storage.read(KEY)).toString()) as { owner: string };
      assert.equal(body.owner, 'machine-b');
      assert.equal(first.renewals, renewalsAtStop);

      // The first holder comes back and tries to renew: it learns it lost the lease and stops.
      await first.renew();
      assert.equal(first.lost, true);
      assert.ok(first.signal.aborted);
      assert.ok(lines.some((line) => /was taken over by another process; stopping/.test(line)));
      await taken.renew();
      assert.equal(taken.lost, false);
    },
  );

  test(
    `${kind}: a released lease is taken at once, and of two waiters exactly one wins`,
    { skip, timeout: 60_000 },
    async (t) => {
      const storage = await make(t);
      // A TTL far longer than the test: only the release can let the waiters in.
      const options: LeaseOptions = { ttlMs: 600_000, renewEveryMs: 200, pollMs: 100, notify: () => undefined };
      const holder = await Lease.acquire(storage, KEY, { ...options, owner: 'holder' });
      const left = watch(Lease.acquire(storage, KEY, { ...options, owner: 'left' }));
      const right = watch(Lease.acquire(storage, KEY, { ...options, owner: 'right' }));
      await until('the holder to renew twice', () => holder.renewals >= 2, 30);
      assert.equal(left.settled() || right.settled(), false);
      await holder.release();

      await until('one waiter to win', () => left.settled() || right.settled(), 30);
      const [winner, loser] = left.settled() ? [left, right] : [right, left];
      const lease = await winner.lease;
      await until('the winner to renew 3 times', () => lease.renewals >= 3, 30);
      assert.equal(loser.settled(), false, 'both waiters took the lease');
      await lease.release();
      const next = await loser.lease;
      assert.equal(next.lost, false);
      await next.release();
      assert.equal((JSON.parse((await storage.read(KEY)).toString()) as { released?: boolean }).released, true);
    },
  );
}
