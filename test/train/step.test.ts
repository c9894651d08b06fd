import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.ts';
import { buildResNet } from '../../src/model/resnet.ts';
import { createAdam } from '../../src/model/checkpoint.ts';
import { TrainBatches, toModelInput } from '../../src/data/index.ts';
import { createTrainStep, evaluate } from '../../src/train/step.ts';
import { syntheticSplit } from './fixtures.ts';

// The project's training backend, with its own gradient kernels (tfjs's cpu backend takes
// seconds per step for the 7×7 stem's filter gradient).
await initBackend('wasm', { log: () => undefined });

test('training steps leak no tensors and bring the loss down', async () => {
  const model = buildResNet({ blocks: [1], widths: [8], stemChannels: 8, seed: 5 });
  const optimizer = await createAdam(model, undefined, { learningRate: 1e-2 });
  const step = createTrainStep(model, optimizer, 10);
  const split = syntheticSplit(40, 3);
  const batches = new TrainBatches(split, { batchSize: 20, seed: 1, augment: false });

  const losses: number[] = [];
  const counts: number[] = [];
  for (let epoch = 0; epoch < 8; epoch++) {
    for (const batch of batches.batches(epoch)) {
      const result = await step({ images: batch.x, labels: batch.labels, size: batch.count });
      assert.ok(result.correct >= 0 && result.correct <= batch.count);
      losses.push(result.loss);
      counts.push(tf.memory().numTensors);
    }
  }
  // The first update creates Adam's moments; from then on the count must not move.
  assert.ok(
    counts.slice(1).every((n) => n === counts[1]),
    `tensor counts ${counts.join(',')}`,
  );
  const early = (losses[0]! + losses[1]!) / 2;
  const late = (losses.at(-1)! + losses.at(-2)!) / 2;
  assert.ok(late < early * 0.7, `loss ${early} → ${late}`);

  const before = tf.memory().numTensors;
  const result = await evaluate(model, split.count, split.labels, 10, 16, (start, end) =>
    toModelInput(split.images.subarray(start * 3072, end * 3072)),
  );
  assert.equal(tf.memory().numTensors, before);
  assert.equal(result.losses.length, 40);
  assert.ok(result.accuracy > 0.3, `accuracy ${result.accuracy}`);
  const mean = result.losses.reduce((a, b) => a + b, 0) / 40;
  assert.ok(Math.abs(mean - result.loss) < 1e-5);
  model.dispose();
  optimizer.dispose();
});
