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

test(
  'a watcher SIGKILLed after any upload, restarted with a fresh working copy, loses and doubles nothing in the bucket',
  { skip },
  async (t) => {
    const { bucket, storage } = await bucketFor(t);
    const steps = [100, 200, 300, 400, 500];
    for (const [k, step] of steps.entries()) await uploadFakeCheckpoint(storage, 'r', step, k + 1);
    // First a process killed right after an upload of each kind, in the order a frame uploads
    // them; then processes killed after their 1st, 2nd or 3rd upload in turn until one finishes.
    // Each starts from the bucket alone (a fresh working copy).
    const kinds = ['/projector/', '/images/step-', 'animation.gif', '/frames/', 'projector_config', 'tfevents'];
    const afterCommit = ['state.json', '/page/frames', '/page/index.js'];
    const killedAfter: string[] = [];
    for (let attempt = 0; attempt < 60; attempt++) {
      const targeted = [...kinds, ...afterCommit][attempt];
      const env: Record<string, string> = targeted
        ? { KILL_AFTER_KEY: targeted }
        : { KILL_AFTER_PUT: String(1 + (attempt % 3)) };
      const result = await runS3Watcher(bucket.url('logs'), VAL, { ...env, LEASE_TTL_MS: '600' });
      const drawn = result.lines.filter((line) => line.event === 'frame').length;
      // A frame redone after a kill, then at most the next one's first uploads.
      if (!targeted)
        assert.ok(drawn <= 1, `one process drew ${drawn} frames before its ${env.KILL_AFTER_PUT}th upload`);
      if (result.signal !== 'SIGKILL') {
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.equal(targeted, undefined, `the process meant to be killed after ${targeted} finished`);
        break;
      }
      const upload = result.lines.filter((line) => line.type === 'uploaded').at(-1);
      killedAfter.push(String(upload?.key));
    }
    for (const part of [...kinds, ...afterCommit]) {
      assert.ok(
        killedAfter.some((key) => key.includes(part)),
        `killed after an upload of ${part}: ${killedAfter.join(' ')}`,
      );
    }
    await assertFramesInBucket(t, storage, 'r', steps);
    const finalRun = await runS3Watcher(bucket.url('logs'), VAL);
    assert.equal(finalRun.code, 0);
    assert.equal(finalRun.lines.filter((line) => line.event === 'frame').length, 0, 'nothing left to draw');
  },
);
