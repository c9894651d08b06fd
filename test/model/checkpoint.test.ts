import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildResNet, resolveModelOptions, type ResNetConfig } from '../../src/model/resnet.ts';
import {
  captureOptimizerState,
  checkpointDirName,
  createAdam,
  latestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  parseCheckpointDirName,
  readCheckpointMeta,
  readCheckpointWeights,
  saveCheckpoint,
  type SaveCheckpointInput,
} from '../../src/model/checkpoint.ts';
import { createTrainStep, type Batch } from '../../src/train/step.ts';
import { UserError } from '../../src/errors.ts';

await tf.setBackend('cpu');

/** The part of a model.json these tests read. */
interface WeightsManifestFile {
  weightsManifest: { weights: { name: string; shape: number[] }[] }[];
}

const config: ResNetConfig = { blocks: [1, 1], widths: [4, 8], stemChannels: 4, seed: 11 };

function randomBatch(size: number, seed: number): Batch {
  const images = tf.tidy(() => tf.randomUniform([size, 32, 32, 3], -1, 1, 'float32', seed).dataSync() as Float32Array);
  const labels = Int32Array.from({ length: size }, (_, i) => (i * 7 + seed) % 10);
  return { images, labels, size };
}

function meta(samplesSeen: number): SaveCheckpointInput['meta'] {
  return {
    epoch: 0,
    samplesSeen,
    iterations: samplesSeen / 4,
    model: resolveModelOptions(config),
    data: { source: 'synthetic', order: 'test' },
    seed: 11,
  };
}

async function trainedModel(steps: number) {
  const model = buildResNet(config);
  const optimizer = await createAdam(model, undefined, { learningRate: 1e-2 });
  const step = createTrainStep(model, optimizer, 10);
  for (let i = 0; i < steps; i++) await step(randomBatch(4, i + 1));
  return { model, optimizer, step };
}

function predict(model: tfl.LayersModel, batch: Batch): Float32Array[] {
  return tf.tidy(() => {
    const outputs = model.apply(tf.tensor4d(batch.images, [batch.size, 32, 32, 3]), { training: false }) as tf.Tensor[];
    return outputs.map((o) => o.dataSync() as Float32Array);
  });
}

function assertClose(actual: Float32Array, expected: Float32Array, tolerance: number) {
  assert.equal(actual.length, expected.length);
  const scale = Math.max(...expected.map(Math.abs));
  const worst = Math.max(...actual.map((v, i) => Math.abs(v - expected[i]!)));
  assert.ok(worst <= tolerance * scale, `max difference ${worst} over ${tolerance} × ${scale}`);
}

async function withTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'et-checkpoint-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('save then load gives identical predictions, optimizer state and next update', () =>
  withTempDir(async (dir) => {
    const { model, optimizer, step } = await trainedModel(2);
    const path = await saveCheckpoint(dir, { model, optimizer, meta: { ...meta(8), validationAccuracy: 0.25 } });
    assert.equal(path, join(dir, 'step-000000008'));
    assert.deepEqual((await readdir(path)).sort(), [
      'checkpoint.json',
      'model.json',
      'optimizer.bin',
      'optimizer.json',
      'weights.bin',
    ]);

    const loaded = await loadCheckpoint(path);
    assert.equal(loaded.meta.step, 8);
    assert.equal(loaded.meta.samplesSeen, 8);
    assert.equal(loaded.meta.validationAccuracy, 0.25);
    assert.deepEqual(loaded.meta.model, resolveModelOptions(config));
    const probe = randomBatch(3, 99);
    assert.deepEqual(predict(loaded.model, probe), predict(model, probe));

    const saved = await captureOptimizerState(optimizer, model);
    assert.equal(loaded.optimizerState.iterations, 2);
    assert.deepEqual(loaded.optimizerState, saved);

    // The restored Adam continues exactly where the original stopped: same moments, same
    // bias correction, same order of variables.
    const restored = await createAdam(loaded.model, loaded.optimizerState, {
      learningRate: loaded.optimizerState.learningRate,
    });
    const restoredStep = createTrainStep(loaded.model, restored, 10);
    const next = randomBatch(4, 3);
    const a = await step(next);
    const b = await restoredStep(next);
    assert.equal(b.loss, a.loss);
    // Adam recomputes beta^t with pow() on restore where the original multiplied step by step:
    // float32 rounding apart, the updated networks agree.
    const [after, expected] = [predict(loaded.model, probe), predict(model, probe)];
    for (let o = 0; o < after.length; o++) assertClose(after[o]!, expected[o]!, 1e-5);
    assert.equal(restored.iterations, 3);

    [model, loaded.model].forEach((m) => m.dispose());
    [optimizer, restored].forEach((o) => o.dispose());
  }));

test('readCheckpointWeights reads every weight without tfjs and names a damaged one', () =>
  withTempDir(async (dir) => {
    const { model, optimizer } = await trainedModel(1);
    const path = await saveCheckpoint(dir, { model, optimizer, meta: meta(4) });
    const weights = await readCheckpointWeights(path);
    assert.equal(weights.size, model.weights.length);
    for (const w of model.weights) {
      const read = weights.get(w.originalName);
      assert.ok(read, w.originalName);
      assert.deepEqual(read.shape, w.shape);
      assert.deepEqual(read.values, w.read().dataSync());
    }

    const bin = await readFile(join(path, 'weights.bin'));
    const modelJson = JSON.parse(await readFile(join(path, 'model.json'), 'utf8')) as WeightsManifestFile;
    const entries: { name: string; shape: number[] }[] = modelJson.weightsManifest[0].weights;
    const last = entries[entries.length - 1]!;
    const lastBytes = 4 * last.shape.reduce((a, b) => a * b, 1);
    const named = (pattern: string) => (e: unknown) =>
      e instanceof UserError && e.message.includes(`'${last.name}'`) && e.message.includes(pattern);

    // A truncated weights.bin: the error names the first tensor that does not fit.
    await writeFile(join(path, 'weights.bin'), bin.subarray(0, bin.length - 8));
    await assert.rejects(readCheckpointWeights(path), named('truncated'));

    // A manifest that lost a tensor (and its bytes): named as missing.
    entries.pop();
    await writeFile(join(path, 'model.json'), JSON.stringify(modelJson));
    await writeFile(join(path, 'weights.bin'), bin.subarray(0, bin.length - lastBytes));
    await assert.rejects(readCheckpointWeights(path), named('is missing'));

    // A misshaped tensor: named with both shapes.
    const wrongShape = [lastBytes / 8, 2];
    entries.push({ ...last, shape: wrongShape });
    await writeFile(join(path, 'model.json'), JSON.stringify(modelJson));
    await writeFile(join(path, 'weights.bin'), bin);
    await assert.rejects(
      readCheckpointWeights(path),
      named(`has shape ${JSON.stringify(wrongShape)}, expected ${JSON.stringify(last.shape)}`),
    );
    model.dispose();
    optimizer.dispose();
  }));

test('a checkpoint write that fails midway leaves no visible checkpoint and no temporary files', () =>
  withTempDir(async (dir) => {
    const { model, optimizer } = await trainedModel(1);
    await saveCheckpoint(dir, { model, optimizer, meta: meta(0) });
    // model.json and weights.bin are on disk when the optimizer state fails.
    const failing = Object.create(optimizer) as tf.AdamOptimizer;
    failing.getWeights = async () => {
      throw new Error('disk on fire');
    };
    await assert.rejects(saveCheckpoint(dir, { model, optimizer: failing, meta: meta(4) }), /disk on fire/);
    assert.deepEqual(await readdir(dir), ['step-000000000']);
    assert.deepEqual(
      (await listCheckpoints(dir)).map((c) => c.step),
      [0],
    );
    assert.equal((await latestCheckpoint(dir))?.step, 0);

    // A hidden or incomplete directory is never taken for a checkpoint.
    await writeFile(join(dir, 'notes.txt'), 'x');
    await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'step-000000999')));
    await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, '.step-000001000.1.ab.tmp')));
    assert.deepEqual(
      (await listCheckpoints(dir)).map((c) => c.step),
      [0],
    );

    // Never replaces an existing checkpoint.
    await assert.rejects(
      saveCheckpoint(dir, { model, optimizer, meta: meta(0) }),
      (e: unknown) => e instanceof UserError && /already exists/.test(e.message),
    );
    model.dispose();
    optimizer.dispose();
  }));

test('readCheckpointMeta names the file and field of a damaged checkpoint.json', () =>
  withTempDir(async (dir) => {
    await assert.rejects(
      readCheckpointMeta(dir),
      (e: unknown) => e instanceof UserError && e.message.includes(join(dir, 'checkpoint.json')),
    );
    await writeFile(join(dir, 'checkpoint.json'), '{"format": 1, "step": 4');
    await assert.rejects(readCheckpointMeta(dir), /not valid JSON/);
    await writeFile(
      join(dir, 'checkpoint.json'),
      JSON.stringify({ format: 1, step: 4, epoch: 0, samplesSeen: 'four' }),
    );
    await assert.rejects(readCheckpointMeta(dir), /field 'samplesSeen' must be an integer/);
  }));

test('an untrained model checkpoints with an empty optimizer state and restores from it', () =>
  withTempDir(async (dir) => {
    const model = buildResNet(config);
    const optimizer = await createAdam(model, undefined, { learningRate: 1e-3 });
    const path = await saveCheckpoint(dir, { model, optimizer, meta: meta(0) });
    const loaded = await loadCheckpoint(path);
    assert.equal(loaded.optimizerState.iterations, 0);
    assert.equal(loaded.optimizerState.moments.length, 0);
    const restored = await createAdam(loaded.model, loaded.optimizerState, { learningRate: 1e-3 });
    assert.equal(restored.iterations, 0);
    [model, loaded.model].forEach((m) => m.dispose());
    [optimizer, restored].forEach((o) => o.dispose());
  }));

test('checkpoint directory names: nine-digit step labels that parse back, and nothing else parses', () => {
  assert.equal(checkpointDirName(12_345), 'step-000012345');
  for (const step of [0, 1, 4_096, 999_999_999]) assert.equal(parseCheckpointDirName(checkpointDirName(step)), step);
  for (const name of [
    'step-12345',
    'step-0000123456',
    '.step-000012345.123.ab.tmp',
    'step-00001234x',
    'steps-000012345',
  ]) {
    assert.equal(parseCheckpointDirName(name), undefined, name);
  }
  assert.throws(() => checkpointDirName(1_000_000_000), UserError);
  assert.throws(() => checkpointDirName(-1), UserError);
});
