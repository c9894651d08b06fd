import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import { foldBatchNorm, foldResNet, hwioToOihw, samePadding, type NamedWeight } from '../../src/model/fold.ts';
import { FoldedInferenceGraph } from '../../src/model/inference-graph.ts';
import { buildResNet, resolveModelOptions } from '../../src/model/resnet.ts';
import { UserError } from '../../src/errors.ts';
import { maxRelativeRowError, setNonTrivialBatchNorms, uniform } from '../embed/fixtures.ts';

await tf.setBackend('cpu');

function weightsOf(model: {
  weights: { originalName: string; shape: (number | null)[]; read(): tf.Tensor }[];
}): Map<string, NamedWeight> {
  return new Map(
    model.weights.map((w) => [
      w.originalName,
      { shape: w.shape as number[], values: w.read().dataSync() as Float32Array },
    ]),
  );
}

test('folding one batch norm by hand: W·gamma/sqrt(var+eps), beta − mean·gamma/sqrt(var+eps)', () => {
  // 1×1 conv, one input channel, two output channels: kernel HWIO [1,1,1,2].
  const kernel = Float32Array.of(2, -3);
  const folded = foldBatchNorm(kernel, 2, {
    gamma: Float32Array.of(1.5, 0.5),
    beta: Float32Array.of(0.25, -1),
    movingMean: Float32Array.of(4, -2),
    movingVariance: Float32Array.of(3.999, 0.249),
    epsilon: 1e-3,
  });
  // scale = [1.5 / 2, 0.5 / 0.5] = [0.75, 1]
  assert.deepEqual(Array.from(folded.kernel), [1.5, -3]);
  assert.deepEqual(Array.from(folded.bias), [0.25 - 4 * 0.75, -1 + 2 * 1]);
});

test('a folded conv equals conv → batch norm (inference) for non-trivial statistics', () => {
  const random = uniform(42);
  const [kh, kw, cin, cout] = [3, 3, 5, 7];
  const kernel = Float32Array.from({ length: kh * kw * cin * cout }, () => random() - 0.5);
  const vector = (f: () => number) => Float32Array.from({ length: cout }, f);
  const bn = {
    gamma: vector(() => 0.2 + 2 * random()),
    beta: vector(() => random() - 0.5),
    movingMean: vector(() => 2 * random() - 1),
    movingVariance: vector(() => 0.05 + 3 * random()),
    epsilon: 1e-3,
  };
  const folded = foldBatchNorm(kernel, cout, bn);
  const [reference, fused] = tf.tidy(() => {
    const x = tf.randomUniform([4, 9, 9, cin], -1, 1, 'float32', 7) as tf.Tensor4D;
    const y = tf.conv2d(x, tf.tensor4d(kernel, [kh, kw, cin, cout]), 2, 'same');
    const ref = tf.batchNorm(
      y,
      tf.tensor1d(bn.movingMean),
      tf.tensor1d(bn.movingVariance),
      tf.tensor1d(bn.beta),
      tf.tensor1d(bn.gamma),
      bn.epsilon,
    );
    const out = tf.fused.conv2d({
      x,
      filter: tf.tensor4d(folded.kernel, [kh, kw, cin, cout]),
      strides: 2,
      pad: 'same',
      bias: tf.tensor1d(folded.bias),
    });
    return [ref.dataSync() as Float32Array, out.dataSync() as Float32Array];
  });
  const error = maxRelativeRowError(reference, fused, cout);
  assert.ok(error < 1e-5, `relative error ${error}`);
  // The statistics are far from identity, so an unfolded conv would be far off: the test can fail.
  const unfolded = tf.tidy(
    () =>
      tf
        .conv2d(
          tf.randomUniform([4, 9, 9, cin], -1, 1, 'float32', 7) as tf.Tensor4D,
          tf.tensor4d(kernel, [kh, kw, cin, cout]),
          2,
          'same',
        )
        .dataSync() as Float32Array,
  );
  assert.ok(maxRelativeRowError(reference, unfolded, cout) > 0.1);
});

test("tfjs 'same' padding puts the odd pixel at the end", () => {
  assert.deepEqual(samePadding(32, 7, 2), [2, 3]);
  assert.deepEqual(samePadding(16, 3, 2), [0, 1]);
  assert.deepEqual(samePadding(16, 3, 1), [1, 1]);
  assert.deepEqual(samePadding(16, 1, 2), [0, 0]);
});

test('HWIO → OIHW moves each weight to its [out, in, y, x] place', () => {
  const [kh, kw, cin, cout] = [2, 3, 4, 5];
  const hwio = Float32Array.from({ length: kh * kw * cin * cout }, (_, i) => i);
  const oihw = hwioToOihw(hwio, kh, kw, cin, cout);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) {
          assert.equal(oihw[((o * cin + i) * kh + y) * kw + x], hwio[((y * kw + x) * cin + i) * cout + o]);
        }
});

test('the folded tfjs graph equals the layers model in inference mode (two-stage model, odd widths)', () => {
  const config = { blocks: [2, 1], widths: [8, 12], stemChannels: 6, numClasses: 5, seed: 11 };
  const model = buildResNet(config);
  setNonTrivialBatchNorms(model, 5);
  const graph = new FoldedInferenceGraph(foldResNet(weightsOf(model), resolveModelOptions(config), 'in-memory model'));
  try {
    const before = tf.memory().numTensors;
    const [refLogits, refEmbedding, logits, embedding] = tf.tidy(() => {
      const x = tf.randomUniform([6, 32, 32, 3], -1, 1, 'float32', 3) as tf.Tensor4D;
      const [l, e] = model.apply(x, { training: false }) as tf.Tensor[];
      const out = graph.predict(x);
      return [l!, e!, out.logits, out.embedding].map((t) => t.dataSync() as Float32Array);
    });
    assert.equal(tf.memory().numTensors, before);
    assert.equal(embedding!.length, 6 * 12);
    assert.ok(maxRelativeRowError(refEmbedding!, embedding!, 12) < 1e-5);
    assert.ok(maxRelativeRowError(refLogits!, logits!, 5) < 1e-5);
  } finally {
    graph.dispose();
    model.dispose();
  }
});

test('a missing or misshaped weight is one UserError naming the tensor', () => {
  const config = { blocks: [1, 1], widths: [8, 16], stemChannels: 8, seed: 2 };
  const model = buildResNet(config);
  const shape = resolveModelOptions(config);
  try {
    const missing = weightsOf(model);
    missing.delete('s2b0_bn1/moving_variance');
    assert.throws(
      () => foldResNet(missing, shape, '/runs/a/step-000000001'),
      (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.match(
          error.message,
          /checkpoint \/runs\/a\/step-000000001: weight 's2b0_bn1\/moving_variance' is missing/,
        );
        assert.doesNotMatch(error.message, /\n/);
        return true;
      },
    );

    const misshaped = weightsOf(model);
    misshaped.set('s2b0_shortcut/kernel', { shape: [1, 1, 8, 8], values: new Float32Array(64) });
    assert.throws(
      () => foldResNet(misshaped, shape, 'ckpt'),
      (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.match(
          error.message,
          /weight 's2b0_shortcut\/kernel' has shape \[1,1,8,8\] \(64 values\), expected \[1,1,8,16\]/,
        );
        return true;
      },
    );

    // A config that does not fit the weights (three stages asked, two stored) names the first gap.
    assert.throws(
      () =>
        foldResNet(weightsOf(model), { ...shape, blocks: [1, 1, 1], widths: [8, 16, 16], embeddingSize: 16 }, 'ckpt'),
      /weight 's3b0_conv1\/kernel' is missing/,
    );
  } finally {
    model.dispose();
  }
});
