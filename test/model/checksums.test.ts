/**
 * The weight files' checksums: recorded in checkpoint.json, checked by every reader. A weights
 * file of the right size full of other bytes is refused by the loaders, by `export-onnx` (one
 * line) and by the watcher (skipped, with the reason); a checkpoint from before checksums loads
 * as it did.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildResNet, resolveModelOptions, type ResNetConfig } from '../../src/model/resnet.ts';
import {
  createAdam,
  loadCheckpoint,
  loadCheckpointModel,
  readCheckpointMeta,
  readCheckpointWeights,
  readOptimizerState,
  saveCheckpoint,
} from '../../src/model/checkpoint.ts';
import { exportCheckpointToOnnx } from '../../src/model/onnx.ts';
import { createTrainStep } from '../../src/train/step.ts';
import { isUserError } from '../../src/errors.ts';
import { writeSyntheticCifarDir } from '../train/fixtures.ts';

await tf.setBackend('cpu');

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const config: ResNetConfig = { blocks: [1], widths: [8], stemChannels: 8, seed: 5 };

/** A checkpoint after one training step (so optimizer.bin holds moments), in `<root>/logs/r/checkpoints/`. */
async function savedCheckpoint(root: string): Promise<string> {
  const model = buildResNet(config);
  const optimizer = await createAdam(model, undefined, { learningRate: 1e-2 });
  const images = new Float32Array(4 * 32 * 32 * 3).map((_, i) => Math.sin(i));
  await createTrainStep(model, optimizer, 10)({ images, labels: Int32Array.from([0, 1, 2, 3]), size: 4 });
  const dir = await saveCheckpoint(join(root, 'logs', 'r', 'checkpoints'), {
    model,
    optimizer,
    meta: {
      epoch: 0,
      samplesSeen: 4,
      iterations: 1,
      model: resolveModelOptions(config),
      data: { source: 'synthetic' },
      seed: 5,
    },
  });
  model.dispose();
  optimizer.dispose();
  return dir;
}

/** Same size, other bytes: what the adversarial run fed the readers. */
async function scramble(path: string): Promise<void> {
  const size = (await readFile(path)).length;
  await writeFile(path, randomBytes(size));
}

const sha256 = async (path: string) =>
  `sha256:${createHash('sha256')
    .update(await readFile(path))
    .digest('hex')}`;
const mismatch = (file: string) => (error: unknown) =>
  isUserError(error) &&
  new RegExp(`${file}: checksum mismatch \\(.*\\); the file is damaged, use another checkpoint$`).test(error.message);

test('checkpoint.json records the sha256 of the weight files; a scrambled one is refused on load', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'checksums-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const dir = await savedCheckpoint(root);
  const meta = await readCheckpointMeta(dir);
  assert.deepEqual(meta.checksums, {
    'weights.bin': await sha256(join(dir, 'weights.bin')),
    'optimizer.bin': await sha256(join(dir, 'optimizer.bin')),
  });
  const intact = join(root, 'intact');
  await cp(dir, intact, { recursive: true });
  (await loadCheckpoint(dir)).model.dispose();

  await scramble(join(dir, 'weights.bin'));
  await assert.rejects(readCheckpointWeights(dir), mismatch('weights.bin'));
  await assert.rejects(loadCheckpointModel(dir), mismatch('weights.bin'));
  await assert.rejects(exportCheckpointToOnnx(dir), mismatch('weights.bin'));

  await cp(join(intact, 'weights.bin'), join(dir, 'weights.bin'));
  await scramble(join(dir, 'optimizer.bin'));
  await assert.rejects(readOptimizerState(dir), mismatch('optimizer.bin'));
  await assert.rejects(loadCheckpoint(dir), mismatch('optimizer.bin'));

  // A checkpoint written before checksums: nothing to check, it loads as it always did.
  const old = join(root, 'old');
  await cp(intact, old, { recursive: true });
  const { checksums: _, ...withoutChecksums } = await readCheckpointMeta(old);
  await writeFile(join(old, 'checkpoint.json'), JSON.stringify(withoutChecksums));
  await scramble(join(old, 'weights.bin'));
  assert.equal((await readCheckpointWeights(old)).size > 0, true);
  (await loadCheckpoint(old)).model.dispose();
});

test('export-onnx says checksum mismatch in one line; the watcher skips the checkpoint with that reason', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'checksums-cli-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const dir = await savedCheckpoint(root);
  await scramble(join(dir, 'weights.bin'));
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['bin/embedding-timelapse.js', ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });

  const exported = cli('export-onnx', dir);
  assert.equal(exported.status, 2, exported.stderr);
  assert.match(exported.stderr, /^embedding-timelapse: .*weights\.bin: checksum mismatch .*use another checkpoint\n$/);

  const data = await writeSyntheticCifarDir(join(root, 'data'), 10, 50);
  const watched = cli('watch', '--once', '--logdir', join(root, 'logs'), '--data', data, '--val-size', '50');
  assert.equal(watched.status, 0, watched.stderr);
  assert.match(
    watched.stderr,
    /^skipped r step 000000004: .*step-000000004 cannot be used: .*weights\.bin: checksum mismatch/m,
  );
  assert.match(watched.stdout, /watcher stopped: 0 frames drawn, 1 skipped/);
});
