/**
 * The split-K plan of our webgpu filter gradient for every convolution of the seed ResNet at
 * batch 1 to 512 (no GPU needed): every k covered exactly once, chunks a whole number of
 * 16-k steps, dispatch sizes and the partial-sum buffer inside WebGPU's default limits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planSplits, tileColumns } from '../../src/backend/kernels/webgpu/conv2d_backprop_filter.ts';

/** [kernel, stride, input size, in channels, out channels] of the seed ResNet (32×32 images). */
const SEED_CONVOLUTIONS: Array<[number, number, number, number, number]> = [
  [7, 2, 32, 3, 32], // stem
  [3, 1, 16, 32, 32], // stage 1
  [3, 2, 16, 32, 64], // stage 2, first block
  [1, 2, 16, 32, 64], // its shortcut
  [3, 1, 8, 64, 64],
  [3, 2, 8, 64, 128], // stage 3, first block
  [1, 2, 8, 64, 128],
  [3, 1, 4, 128, 128],
];

const MAX_WORKGROUPS_PER_DIMENSION = 65535;
const MAX_STORAGE_BINDING_BYTES = 128 * 1024 * 1024;

test('the split-K plan covers K exactly, within WebGPU limits, for every seed ResNet shape and batch', () => {
  for (const batch of [1, 2, 64, 256, 512]) {
    for (const [kernel, stride, size, inC, outC] of SEED_CONVOLUTIONS) {
      const out = Math.ceil(size / stride);
      const m = kernel * kernel * inC;
      const k = batch * out * out;
      const plan = planSplits(m, outC, k);
      const what = `batch ${batch}, ${kernel}x${kernel}/${stride} ${inC}->${outC}`;
      assert.equal(plan.kPerSplit % 16, 0, `${what}: chunk of whole 16-k steps`);
      assert.ok(plan.splits * plan.kPerSplit >= k, `${what}: all of K covered`);
      assert.ok((plan.splits - 1) * plan.kPerSplit < k, `${what}: no empty chunk`);
      assert.ok(plan.splits === 1 || plan.kPerSplit >= 128, `${what}: chunks of at least 128 k`);
      assert.equal(plan.tilesM, Math.ceil(m / 64));
      assert.equal(plan.tilesN, Math.ceil(outC / tileColumns(outC)));
      for (const d of [plan.tilesN, plan.tilesM, plan.splits]) assert.ok(d <= MAX_WORKGROUPS_PER_DIMENSION, what);
      assert.ok(plan.splits * m * outC * 4 <= MAX_STORAGE_BINDING_BYTES, `${what}: partial sums fit one binding`);
      // Enough workgroups to fill a large GPU when K allows it.
      if (k >= 1024 * 128) assert.ok(plan.tilesM * plan.tilesN * plan.splits >= 512, `${what}: parallelism`);
    }
  }
});

test('tile columns follow the layer width', () => {
  assert.equal(tileColumns(3), 16);
  assert.equal(tileColumns(16), 16);
  assert.equal(tileColumns(32), 32);
  assert.equal(tileColumns(64), 64);
  assert.equal(tileColumns(128), 64);
});
