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
    tf.tidy(() => tf.grad((ww: tf.Tensor) => tf.sum(tf.relu(tf.conv2d(x, ww as tf.Tensor4D, 1, 'same'))))(w).dataSync()),
  );
  const names = kernels.map((k) => k.name);
  assert.ok(names.includes('Conv2D'), names.join(', '));
  assert.ok(names.includes('Relu'));
  assert.ok(names.includes('Conv2DBackpropFilter>Conv2D'), 'our kernel calls a forward convolution inside');
  assert.ok(kernels.every((k) => k.calls >= 1 && k.ms >= 0));
  assert.match(formatProfile(kernels), /\| all kernels \| \d+ \|/);
  const after = tf.getKernelsForBackend('wasm').map((k) => [k.kernelName, k.kernelFunc] as const);
  assert.deepEqual(new Map(after), new Map(before));
  tf.dispose([x, w]);
});
