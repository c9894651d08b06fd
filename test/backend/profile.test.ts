import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.ts';
import { formatProfile, profileKernels } from '../../src/backend/profile.ts';

test('profileKernels times every kernel, names nested ones, and restores the registry', async () => {
  await initBackend('wasm', { log: () => {} });
  const before = tf.getKernelsForBackend('wasm').map((k) => [k.kernelName, k.kernelFunc] as const);
  const x = tf.ones([2, 6, 6, 3]) as tf.Tensor4D;
  const w = tf.ones([3, 3, 3, 4]) as tf.Tensor4D;
  const kernels = await profileKernels(() =>
    tf.tidy(() =>
      tf
        .grad((ww: tf.Tensor) => tf.sum(tf.relu(tf.conv2d(x, ww as tf.Tensor4D, 1, 'same'))))(w)
        .dataSync(),
    ),
  );
  const names = kernels.map((k) => k.name);
  assert.ok(names.includes('Conv2D'), names.join(', '));
  assert.ok(names.includes('Relu'));
  assert.ok(names.includes('Conv2DBackpropFilter>Conv2D'), 'our kernel calls a forward convolution inside');
  const byName = new Map(kernels.map((k) => [k.name, k]));
  assert.equal(byName.get('Relu')?.calls, 1, 'one forward ReLU');
  assert.equal(byName.get('Conv2DBackpropFilter')?.calls, 1, 'one filter gradient');
  // The outer kernel's timer runs around the inner one's: inclusive time is at least the inner time.
  const outer = byName.get('Conv2DBackpropFilter')!.ms;
  assert.ok(outer >= byName.get('Conv2DBackpropFilter>Conv2D')!.ms, `outer ${outer} ms`);
  for (let i = 1; i < kernels.length; i++)
    assert.ok(kernels[i - 1]!.ms >= kernels[i]!.ms, 'sorted by time, longest first');
  const topLevelCalls = kernels.filter((k) => !k.name.includes('>')).reduce((sum, k) => sum + k.calls, 0);
  assert.match(formatProfile(kernels), new RegExp(`\\| all kernels \\| ${topLevelCalls} \\|`));
  const after = tf.getKernelsForBackend('wasm').map((k) => [k.kernelName, k.kernelFunc] as const);
  assert.deepEqual(new Map(after), new Map(before));
  tf.dispose([x, w]);
});

test('formatProfile: shares of the top-level total, nested kernels marked inside, a total row', () => {
  const table = formatProfile([
    { name: 'Conv2D', calls: 2, ms: 30 },
    { name: 'Conv2DBackpropFilter', calls: 1, ms: 10 },
    { name: 'Conv2DBackpropFilter>Conv2D', calls: 1, ms: 8 },
  ]);
  assert.equal(
    table,
    [
      '| kernel | calls | ms | share |',
      '|---|---|---|---|',
      '| Conv2D | 2 | 30.0 | 75.0 % |',
      '| Conv2DBackpropFilter | 1 | 10.0 | 25.0 % |',
      '| Conv2DBackpropFilter>Conv2D | 1 | 8.0 | (inside) |',
      '| all kernels | 3 | 40.0 | 100 % |',
    ].join('\n'),
  );
});
