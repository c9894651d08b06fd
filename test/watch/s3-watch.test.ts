/**
 * `watch --logdir s3://…` on the real Ceph gateway: checkpoints uploaded as the trainer uploads
 * them (writeWithManifest), the watcher as a process with a fresh working copy (another machine),
 * and every output checked in the bucket, read back with the project's own readers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { storageFor, type Storage } from '../../src/storage/index.ts';
import { needs } from '../helpers/requirements.ts';
import { createTestBucket, type TestBucket } from '../helpers/s3.ts';
import { WATCHER_TAGS, gifSteps, stateOf, stepsByTag } from './helpers/inspect-run.ts';
import { downloadRun, runS3Watcher, uploadFakeCheckpoint } from './helpers/s3-run.ts';

const VAL = 200;
const skip = needs('s3');

async function bucketFor(t: import('node:test').TestContext): Promise<{ bucket: TestBucket; storage: Storage }> {
  const bucket = await createTestBucket();
  t.after(() => bucket.remove());
  return { bucket, storage: storageFor(bucket.url('logs')) };
}

/** Every frame once in state.json, in the event files, in the GIF; each frame's files present. */
async function assertFramesInBucket(
  t: import('node:test').TestContext,
  storage: Storage,
  run: string,
  steps: number[],
) {
  const runDir = await downloadRun(t, storage, run);
  assert.deepEqual(
    (await stateOf(runDir)).frames.map((f) => f.step),
    steps,
    'state frames',
  );
  const tags = await stepsByTag(runDir);
  for (const tag of WATCHER_TAGS) assert.deepEqual(tags.get(tag) ?? [], steps, `event steps of ${tag}`);
  assert.deepEqual(await gifSteps(runDir), steps, 'GIF frames');
  for (const step of steps) {
    const label = String(step).padStart(9, '0');
    await access(join(runDir, 'embeddings', 'images', `step-${label}.png`));
    await access(join(runDir, 'embeddings', 'frames', `step-${label}.tsv`));
  }
  await access(join(runDir, 'embeddings', 'timelapse.html'));
  await access(join(runDir, 'embeddings', 'page', 'index.js'));
  await access(join(runDir, 'projector_config.pbtxt'));
  return runDir;
}

test(
  'watch s3://: every complete checkpoint becomes a frame in the bucket; one without manifest is not read',
  { skip },
  async (t) => {
    const { bucket, storage } = await bucketFor(t);
    for (const [k, step] of [100, 200, 300].entries()) await uploadFakeCheckpoint(storage, 'r', step, k + 1);
    // Uploaded but not sealed: the trainer is still writing it.
    await storage.write('r/checkpoints/step-000000400/checkpoint.json', '{"format": 1, "step": 400}');
    const first = await runS3Watcher(bucket.url('logs'), VAL);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    await assertFramesInBucket(t, storage, 'r', [100, 200, 300]);
    const state = JSON.parse((await storage.read('r/embeddings/state.json')).toString()) as { skipped: unknown[] };
    assert.deepEqual(state.skipped, []);
  },
);
