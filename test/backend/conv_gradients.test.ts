import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../src/backend/index.ts';
import * as tf from '@tensorflow/tfjs-core';
import {
  checkConvGradients,
  checkModelGradients,
  convGradientCases,
  modelGradientsHere,
  relativeError,
} from '../../src/backend/gradcheck.ts';
import { withReferenceKernels } from './reference_kernels.ts';
import { buildResNet } from '../../src/model/index.ts';
import { imagesPerChunk, setFilterGradientChunkBytes } from '../../src/backend/kernels/conv2d_backprop_filter.ts';

describe('wasm convolution gradient kernels match the cpu backend', () => {
  before(async () => {
    await initBackend('wasm', { log: () => {} });
  });

  for (const c of convGradientCases()) {
    test(`kernel ${c.kernel}, stride ${c.stride}, pad ${c.pad}, input ${c.size.join('×')}`, async () => {
      const check = await checkConvGradients('wasm', c);
      assert.ok(check.dxError < 1e-5, `input gradient relative error ${check.dxError}`);
      assert.ok(check.dwError < 1e-5, `filter gradient relative error ${check.dwError}`);
      assert.equal(check.leakedTensors, 0, 'no tensors leaked');
    });
  }

  test('the filter gradient cut into one-image chunks (views, summed) is the same', async () => {
    const old = setFilterGradientChunkBytes(1);
    try {
      for (const c of convGradientCases()) {
        const check = await checkConvGradients('wasm', c);
        assert.ok(
          check.dwError < 1e-5,
          `kernel ${c.kernel} stride ${c.stride} pad ${c.pad}: filter gradient relative error ${check.dwError}`,
        );
        assert.equal(check.leakedTensors, 0, 'no tensors leaked');
      }
    } finally {
      setFilterGradientChunkBytes(old);
    }
  });

  test('chunks are the largest batch divisor that fits', () => {
    assert.equal(imagesPerChunk(256, 32 * 1024, 256 * 1024), 8);
    assert.equal(imagesPerChunk(12, 100, 500), 4); // 5 does not divide 12
    assert.equal(imagesPerChunk(7, 100, 500), 1);
    assert.equal(imagesPerChunk(4, 100, 1e9), 4);
    assert.equal(imagesPerChunk(4, 1e9, 100), 1);
  });

  test('a small ResNet gets the same weight gradients from our kernels as from plain-loop ones', async () => {
    await tf.setBackend('wasm');
    const model = buildResNet({ blocks: [1, 1, 1], seed: 3 });
    try {
      const reference = await withReferenceKernels(() => modelGradientsHere(model, 4));
      const ours = await modelGradientsHere(model, 4);
      assert.equal(ours.size, 25); // stem conv + bn (3), 3 blocks × (2 convs + 2 bns = 6), 2 shortcuts, head (2)
      for (const [name, expected] of reference) {
        const error = relativeError(ours.get(name)!, expected);
        assert.ok(error < 1e-5, `${name}: relative error ${error}`);
      }
    } finally {
      model.dispose();
    }
  });

  test('the whole network roughly agrees with the cpu backend', async () => {
    // Loose on purpose: see checkModelGradients. A wrong padding or stride gives errors near 1.
    const checks = await checkModelGradients('wasm', () => buildResNet({ blocks: [1, 1, 1], seed: 3 }), 4);
    for (const { name, error } of checks) assert.ok(error < 5e-2, `${name}: relative error ${error}`);
  });
});
