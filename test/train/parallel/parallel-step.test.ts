import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/backend/index.ts';
import { toModelInput } from '../../../src/data/index.ts';
import { buildResNet, resolveModelOptions } from '../../../src/model/resnet.ts';
import { computeGradients, trainableVariables, type Batch } from '../../../src/train/step.ts';
import { createParallelTrainStep } from '../../../src/train/parallel/parallel-step.ts';
import { WorkerFailure } from '../../../src/train/parallel/pool.ts';
import { syntheticSplit } from '../fixtures.ts';

await initBackend('wasm', { log: () => undefined });

const modelOptions = resolveModelOptions({ blocks: [1], widths: [8], stemChannels: 8, numClasses: 10 });

function batchOf(count: number, seed: number): Batch {
  const split = syntheticSplit(count, seed);
  return { images: toModelInput(split.images), labels: Int32Array.from(split.labels), size: count };
}

test('2 workers on two slices give the gradient of the whole batch (batch norm on moving statistics)', async () => {
  const model = buildResNet({ ...modelOptions, seed: 1 });
  const optimizer = tf.train.adam(1e-3);
  // 33 images: uneven slices (17 + 16), so the average must be weighted by slice size.
  const batch = batchOf(33, 5);
  const parallel = await createParallelTrainStep({
    model,
    modelOptions,
    optimizer,
    numClasses: 10,
    workers: 2,
    maxBatch: 33,
    backend: 'wasm',
    training: false,
  });
  try {
    const { row, layout, loss, correct } = await parallel.gradients(batch);
    const variables = trainableVariables(model);
    const whole = computeGradients(model, variables, batch, 10, false);
    try {
      assert.ok(
        Math.abs(loss - (await whole.loss.data())[0]!) < 1e-5,
        "the weighted mean of the slices' losses is the batch's",
      );
      assert.equal(correct, (await whole.correct.data())[0]);
      let worst = 0;
      let largest = 0;
      for (let i = 0; i < layout.trainable.length; i++) {
        const { offset, size } = layout.trainable[i]!;
        const expected = (await whole.grads[i]!.data()) as Float32Array;
        for (let k = 0; k < size; k++) {
          worst = Math.max(worst, Math.abs(row[offset + k]! - expected[k]!));
          largest = Math.max(largest, Math.abs(expected[k]!));
        }
      }
      assert.ok(largest > 1e-3, `the gradients are not all zero (largest ${largest})`);
      assert.ok(worst <= 1e-5, `largest difference ${worst}`);
    } finally {
      tf.dispose([...whole.grads, whole.loss, whole.correct]);
    }
  } finally {
    await parallel.close();
    optimizer.dispose();
    model.dispose();
  }
});

test('after 3 steps with 2 workers every replica holds the master weights bit for bit', async () => {
  const model = buildResNet({ ...modelOptions, seed: 2 });
  const optimizer = tf.train.adam(1e-2);
  const tensorsBefore = tf.memory().numTensors;
  const parallel = await createParallelTrainStep({
    model,
    modelOptions,
    optimizer,
    numClasses: 10,
    workers: 2,
    maxBatch: 32,
    backend: 'wasm',
    checkEvery: 1,
  });
  const moving = () => Promise.all(model.nonTrainableWeights.map(async (w) => Array.from(await w.read().data())));
  try {
    const initial = await parallel.checkReplicas();
    const movingBefore = await moving();
    const losses: number[] = [];
    for (let s = 0; s < 3; s++) losses.push((await parallel.step(batchOf(32, 10 + s))).loss);
    const after = await parallel.checkReplicas();
    assert.equal(after.workers.length, 2);
    for (const checksum of after.workers) assert.equal(checksum, after.master);
    assert.notEqual(after.master, initial.master, 'the steps changed the weights');
    assert.notDeepEqual(await moving(), movingBefore, "the moving statistics follow the workers' batches");
    assert.ok(losses.every(Number.isFinite), String(losses));
    // Optimizer slots are created at the first step; nothing else may accumulate per step.
    const afterFirst = tf.memory().numTensors;
    await parallel.step(batchOf(32, 20));
    assert.equal(tf.memory().numTensors, afterFirst);
    assert.ok(afterFirst > tensorsBefore);
  } finally {
    await parallel.close();
    optimizer.dispose();
    model.dispose();
  }
});

test('a worker that dies fails the next step with one line naming it', async () => {
  const model = buildResNet({ ...modelOptions, seed: 3 });
  const optimizer = tf.train.adam(1e-3);
  const parallel = await createParallelTrainStep({
    model,
    modelOptions,
    optimizer,
    numClasses: 10,
    workers: 2,
    maxBatch: 32,
    backend: 'wasm',
  });
  try {
    await parallel.step(batchOf(32, 1));
    await parallel.pool.threads[1]!.terminate();
    await assert.rejects(
      parallel.step(batchOf(32, 2)),
      (e: unknown) =>
        e instanceof WorkerFailure && /^worker 2 of 2 exited unexpectedly/.test(e.message) && !e.message.includes('\n'),
    );
  } finally {
    await parallel.close();
    optimizer.dispose();
    model.dispose();
  }
});
