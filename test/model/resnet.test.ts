import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildResNet, countTrainableParams, parseBlocks, resolveModelOptions } from '../../src/model/resnet.ts';
import { expectedWeightShapes } from '../../src/model/checkpoint.ts';
import { UserError } from '../../src/errors.ts';

await tf.setBackend('cpu');

test("the seed's ResNet has 4,024,490 trainable parameters and the contract's layer names", () => {
  const model = buildResNet({ blocks: [6, 6, 12] });
  try {
    assert.equal(countTrainableParams(model), 4_024_490);
    // Batch-norm moving statistics are weights too, just not trainable (model.md).
    assert.equal(model.countParams(), 4_033_002);
    const expected = expectedWeightShapes(resolveModelOptions({ blocks: [6, 6, 12] }));
    const actual = new Map(model.weights.map((w) => [w.originalName, w.shape]));
    assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
    for (const [name, shape] of expected) assert.deepEqual(actual.get(name), shape, name);
    // A 1×1 convolution shortcut only where the shape changes: first block of stages 2 and 3.
    const shortcuts = model.layers.map((l) => l.name).filter((n) => n.endsWith('_shortcut'));
    assert.deepEqual(shortcuts, ['s2b0_shortcut', 's3b0_shortcut']);
    assert.deepEqual(
      model.outputs.map((o) => o.shape),
      [
        [null, 10],
        [null, 128],
      ],
    );
  } finally {
    model.dispose();
  }
});

test('a small model maps a batch to [logits, embedding] with the right shapes', () => {
  const model = buildResNet({ blocks: [1, 1], widths: [8, 16], stemChannels: 8, numClasses: 7, seed: 3 });
  try {
    const [logits, embedding] = tf.tidy(() => {
      const outputs = model.apply(tf.randomUniform([3, 32, 32, 3], -1, 1, 'float32', 1), {
        training: false,
      }) as tf.Tensor[];
      return outputs.map((o) => o.clone());
    });
    assert.deepEqual(logits!.shape, [3, 7]);
    assert.deepEqual(embedding!.shape, [3, 16]);
    // The embedding is a mean of ReLU outputs, so never negative.
    assert.ok((embedding!.dataSync() as Float32Array).every((v) => v >= 0));
    tf.dispose([logits!, embedding!]);
    // 8×8 spatial after stage 2's stride: stem halves 32 → 16, stage 2 halves 16 → 8.
    assert.deepEqual(model.getLayer('s2b0_conv1').outputShape, [null, 8, 8, 16]);
    assert.deepEqual(model.getLayer('stem_relu').outputShape, [null, 16, 16, 8]);
  } finally {
    model.dispose();
  }
});

test('the same seed gives the same initial weights, another seed different ones', () => {
  const a = buildResNet({ blocks: [1, 1], widths: [4, 8], stemChannels: 4, seed: 7 });
  const b = buildResNet({ blocks: [1, 1], widths: [4, 8], stemChannels: 4, seed: 7 });
  const c = buildResNet({ blocks: [1, 1], widths: [4, 8], stemChannels: 4, seed: 8 });
  try {
    const values = (m: typeof a) => m.getLayer('s2b0_conv1').getWeights()[0]!.dataSync();
    assert.deepEqual(values(a), values(b));
    assert.notDeepEqual(values(a), values(c));
    // Distinct layers get distinct initialisations.
    const conv1 = a.getLayer('s1b0_conv1').getWeights()[0]!.dataSync();
    const conv2 = a.getLayer('s1b0_conv2').getWeights()[0]!.dataSync();
    assert.notDeepEqual(conv1, conv2);
  } finally {
    [a, b, c].forEach((m) => m.dispose());
  }
});

test('--blocks accepts counts and presets and rejects the rest', () => {
  assert.deepEqual(parseBlocks('6,6,12'), [6, 6, 12]);
  assert.deepEqual(parseBlocks('seed'), [6, 6, 12]);
  assert.deepEqual(parseBlocks('small'), [1, 1, 1]);
  assert.deepEqual(parseBlocks(' 2, 3 '), [2, 3]);
  for (const bad of ['', '1,,2', '0,1', '1.5', 'big', '-1']) assert.throws(() => parseBlocks(bad), UserError, bad);
  assert.throws(() => resolveModelOptions({ blocks: [1, 1], widths: [8] }), /2 stages of blocks but 1 widths/);
});
