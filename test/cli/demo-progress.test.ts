/**
 * What `demo` waits on, read through the storage interface: the same answers for a local log
 * directory (checkpoints published by one rename) and a bucket (complete once the manifest is
 * there), on the real Ceph gateway where one is configured.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUserError } from '../../src/errors.ts';
import {
  completeCheckpointSteps,
  lastHandled,
  readWatcherRecord,
  waitForWatcher,
} from '../../src/cli/demo-progress.ts';
import { listStoredCheckpoints } from '../../src/model/checkpoint/stored.ts';
import { LocalStorage, storageFor, type Storage } from '../../src/storage/index.ts';
import { writeWithManifest } from '../../src/storage/manifest.ts';
import { needs } from '../helpers/requirements.ts';
import { createTestBucket } from '../helpers/s3.ts';

const STATE = 'r/embeddings/state.json';

function record(steps: number[], skipped: number[] = []): string {
  return JSON.stringify({
    format: 1,
    frames: steps.map((step) => ({ step, frameSeconds: 1.5 })),
    skipped: skipped.map((step) => ({ step, reason: 'x', time: '' })),
  });
}

/** Checks the waiting against a storage whose run has complete checkpoints 0 and 100. */
async function checkWaiting(storage: Storage): Promise<void> {
  assert.deepEqual(await completeCheckpointSteps(storage, 'r'), [0, 100]);
  assert.equal(await readWatcherRecord(storage, STATE), null, 'no record yet');

  // The watcher has drawn step 0 only: the demo keeps waiting until the record reaches step 100.
  await storage.write(STATE, record([0]));
  let polls = 0;
  const waited = await waitForWatcher(storage, STATE, 100, {
    pollMs: 10,
    stop: () => {
      polls++;
      if (polls === 3) void storage.write(STATE, record([0], [100]));
      return polls > 50 ? 'gave up' : undefined;
    },
  });
  assert.ok('record' in waited, JSON.stringify(waited));
  assert.equal(lastHandled(waited.record), 100);
  assert.ok(polls >= 3);

  // A watcher that exits early stops the waiting with its reason.
  assert.deepEqual(await waitForWatcher(storage, STATE, 200, { pollMs: 1, stop: () => 'watcher exited' }), {
    stopped: 'watcher exited',
  });
  await storage.write(STATE, '{"frames": 3}');
  await assert.rejects(
    readWatcherRecord(storage, STATE),
    (error) => isUserError(error) && /is not a watcher's record/.test(error.message),
  );
}

test('a local log directory: checkpoints with checkpoint.json are complete, the record is read whole', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'et-demo-progress-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [name, complete] of [
    ['step-000000000', true],
    ['step-000000100', true],
    ['step-000000200', false],
    ['.step-000000300.tmp', true],
  ] as const) {
    const folder = join(dir, 'r', 'checkpoints', name);
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'weights.bin'), 'w');
    if (complete) await writeFile(join(folder, 'checkpoint.json'), '{}');
  }
  await checkWaiting(new LocalStorage(dir));
});

test(
  'a bucket: only checkpoints with a manifest are complete, the waiting is the same',
  { skip: needs('s3') },
  async (t) => {
    const bucket = await createTestBucket();
    t.after(() => bucket.remove());
    const storage = storageFor(bucket.url('demo'));
    const files = new Map([
      ['checkpoint.json', Buffer.from('{}')],
      ['weights.bin', Buffer.from('w')],
    ]);
    await writeWithManifest(storage, 'r/checkpoints/step-000000000', files);
    await writeWithManifest(storage, 'r/checkpoints/step-000000100', files);
    // Cut off before its manifest: checkpoint.json alone does not make it complete in a bucket.
    await storage.write('r/checkpoints/step-000000200/checkpoint.json', '{}');
    const listed = await listStoredCheckpoints(storage, 'r/checkpoints');
    assert.deepEqual(
      listed.incomplete.map((c) => c.folder),
      ['r/checkpoints/step-000000200'],
    );
    await checkWaiting(storage);
  },
);
