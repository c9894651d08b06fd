import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../src/backend/index.ts';
import { pseudoRandom, relativeError } from '../../src/backend/gradcheck.ts';

test('FusedBatchNorm on wasm (x·a + b) equals the cpu backend, with and without scale and offset', async () => {
  await initBackend('wasm', { log: () => {} });
  const shape = [3, 4, 5, 6];
  const x = pseudoRandom(360, 7).map((v) => 2 * v + 0.5);
  const [mean, variance, offset, scale] = [
    pseudoRandom(6, 8),
    pseudoRandom(6, 9).map((v) => Math.abs(v) + 0.1),
    pseudoRandom(6, 10),
    pseudoRandom(6, 11),
  ];
  // Per-channel statistics as [C] (the fast path) and as [1, 1, 1, C] and full-size (stock kernel).
  const cases: Array<[string, (t: (v: Float32Array, s?: number[]) => tf.Tensor) => tf.Tensor]> = [
    ['per channel', (t) => tf.batchNorm(t(x, shape), t(mean), t(variance), t(offset), t(scale), 1e-3)],
    ['no scale, no offset', (t) => tf.batchNorm(t(x, shape), t(mean), t(variance), undefined, undefined, 1e-3)],
    [
      'rank-4 statistics',
      (t) =>
        tf.batchNorm(
          t(x, shape),
          t(mean, [1, 1, 1, 6]),
          t(variance, [1, 1, 1, 6]),
          t(offset, [1, 1, 1, 6]),
          t(scale, [1, 1, 1, 6]),
          1e-3,
        ),
    ],
    [
      'full-size mean',
      (t) =>
        tf.batchNorm(
          t(x, shape),
          t(
            x.map((v) => v * 0.5),
            shape,
          ),
          t(
            x.map((v) => v * v + 0.1),
            shape,
          ),
          t(x, shape),
          t(x, shape),
          1e-2,
        ),
    ],
  ];
  for (const [what, run] of cases) {
    const results: Record<string, Float32Array> = {};
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      const y = tf.tidy(() => run((v, s) => tf.tensor(v, s ?? [v.length])));
      assert.deepEqual(y.shape, shape, what);
      results[backend] = y.dataSync() as Float32Array;
      y.dispose();
    }
    assert.ok(
      relativeError(results.wasm!, results.cpu!) < 1e-6,
      `${what}: relative error ${relativeError(results.wasm!, results.cpu!)}`,
    );
  }
  await tf.setBackend('wasm');
  const before = tf.memory().numTensors;
  const bytes = (tf.backend() as unknown as { dataIdMap: { numDataIds(): number } }).dataIdMap.numDataIds();
  tf.tidy(() => tf.batchNorm(tf.ones([2, 2, 2, 3]), tf.zeros([3]), tf.ones([3]))).dispose();
  assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
  assert.equal(
    (tf.backend() as unknown as { dataIdMap: { numDataIds(): number } }).dataIdMap.numDataIds(),
    bytes,
    'no backend data leaked',
  );
});
