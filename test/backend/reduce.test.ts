import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../src/backend/index.ts';
import { pseudoRandom, relativeError } from '../../src/backend/gradcheck.ts';
import { spatialReduction } from '../../src/backend/kernels/reduce_spatial.ts';

test('only NHWC reductions over [1, 2] or [0, 1, 2] take the pooling path', () => {
  assert.deepEqual(spatialReduction(4, [0, 1, 2]), { overBatch: true });
  assert.deepEqual(spatialReduction(4, [2, 1]), { overBatch: false });
  assert.equal(spatialReduction(4, [3]), null);
  assert.equal(spatialReduction(4, [0, 1, 2, 3]), null);
  assert.equal(spatialReduction(3, [1, 2]), null);
});

test('Sum and Mean on wasm equal the cpu backend, on and off the pooling path', async () => {
  await initBackend('wasm', { log: () => {} });
  const shape = [4, 5, 6, 3];
  const values = pseudoRandom(360, 4).map((v) => v + 0.3);
  const cases: Array<[number | number[], boolean]> = [
    [[0, 1, 2], false],
    [[0, 1, 2], true],
    [[1, 2], false],
    [[2, 1], true],
    [-1, false],
    [0, true],
    [[0, 2], false],
    [[0, 1, 2, 3], false],
  ];
  for (const [axis, keepDims] of cases) {
    for (const op of ['sum', 'mean'] as const) {
      const results: Record<string, { values: Float32Array; shape: number[] }> = {};
      for (const backend of ['cpu', 'wasm']) {
        await tf.setBackend(backend);
        const r = tf.tidy(() => tf[op](tf.tensor(values, shape), axis, keepDims));
        results[backend] = { values: r.dataSync() as Float32Array, shape: r.shape };
        r.dispose();
      }
      const what = `${op} ${JSON.stringify(axis)} keepDims ${keepDims}`;
      assert.deepEqual(results.wasm!.shape, results.cpu!.shape, what);
      assert.ok(relativeError(results.wasm!.values, results.cpu!.values) < 1e-6, what);
    }
  }
  await tf.setBackend('wasm');
  const ints = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1], 'int32');
  const total = tf.sum(ints, [1, 2]);
  assert.deepEqual(Array.from(total.dataSync()), [10]);
  assert.equal(total.dtype, 'int32');
  tf.dispose([ints, total]);
});
