import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers'; // registers tfjs-core's own gradients: the reference
import { GRADIENTS } from '../../src/backend/gradients/register.ts';
import { pseudoRandom, relativeError } from '../../src/backend/gradcheck.ts';

const STOCK = new Map(GRADIENTS.map((config) => [config.kernelName, tf.getGradient(config.kernelName)!]));

/** Gradients of `f` with tfjs-core's gradients registered, then with ours. */
function bothWays(
  f: (inputs: tf.Tensor[]) => tf.Scalar,
  inputs: tf.Tensor[],
): { stock: Float32Array[]; ours: Float32Array[] } {
  const run = () =>
    tf.tidy(() =>
      tf
        .grads((...xs: tf.Tensor[]) => f(xs))(inputs)
        .map((g) => g.dataSync() as Float32Array),
    );
  for (const config of STOCK.values()) tf.registerGradient(config);
  const stock = run();
  for (const config of GRADIENTS) tf.registerGradient(config);
  const ours = run();
  return { stock, ours };
}

describe("our gradients equal tfjs-core's", async () => {
  await tf.setBackend('cpu');
  const shape: [number, number, number, number] = [4, 5, 6, 3];
  const x = tf.tensor4d(
    pseudoRandom(360, 1).map((v) => v * 3 + 0.7),
    shape,
  );
  const r = tf.tensor4d(pseudoRandom(360, 2), shape);
  const gamma = tf.tensor1d([0.5, 1.5, -2]);
  const beta = tf.tensor1d([0.1, -0.2, 0.3]);

  test('batch norm in training mode (moments, then FusedBatchNorm), as tfjs-layers runs it', () => {
    const { stock, ours } = bothWays(
      ([xx, g, b]) => {
        const { mean, variance } = tf.moments(xx!, [0, 1, 2]);
        return tf.sum(tf.mul(tf.batchNorm(xx!, mean, variance, b, g, 1e-3), r));
      },
      [x, gamma, beta],
    );
    stock.forEach((expected, i) =>
      assert.ok(relativeError(ours[i]!, expected) < 1e-5, `input ${i}: ${relativeError(ours[i]!, expected)}`),
    );
  });

  test('batch norm with fixed statistics given as inputs', () => {
    const mean = tf.tensor1d([0.2, -0.1, 0.4]);
    const variance = tf.tensor1d([1.2, 0.5, 2]);
    const { stock, ours } = bothWays(
      ([xx, m, v, g, b]) => tf.sum(tf.mul(tf.batchNorm(xx!, m!, v!, b, g, 1e-3), r)),
      [x, mean, variance, gamma, beta],
    );
    stock.forEach((expected, i) =>
      assert.ok(relativeError(ours[i]!, expected) < 1e-5, `input ${i}: ${relativeError(ours[i]!, expected)}`),
    );
  });

  test('square: dy · (x + x) is exactly dy · 2x', () => {
    const { stock, ours } = bothWays(([xx]) => tf.sum(tf.mul(tf.square(xx!), r)), [x]);
    assert.deepEqual(ours[0], stock[0]);
  });

  for (const [axes, keepDims] of [
    [[0, 1, 2], false],
    [[1, 2], true],
    [-1, false],
    [[0, 3], false],
  ] as const) {
    test(`mean over ${JSON.stringify(axes)}, keepDims ${keepDims}`, () => {
      const { stock, ours } = bothWays(
        ([xx]) => {
          const m = tf.mean(xx!, axes as number | number[], keepDims);
          return tf.sum(tf.mul(m, tf.tensor(pseudoRandom(m.size, 3), m.shape)));
        },
        [x],
      );
      assert.ok(relativeError(ours[0]!, stock[0]!) < 1e-6);
    });
  }
});
