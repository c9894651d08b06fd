import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tileImages, worstIndicesPerClass, worstSampleGrids } from '../../src/train/worst-samples.ts';

test('picks the highest-loss images of each class, worst first', () => {
  const labels = [0, 1, 0, 1, 0, 2];
  const losses = [0.5, 2.0, 3.0, 0.1, 1.0, 0.7];
  assert.deepEqual(worstIndicesPerClass(labels, losses, 3, 2), [[2, 4], [1, 3], [5]]);
});

test('tiles images row by row with a gap, each pixel where it belongs', () => {
  const images = new Uint8Array(3 * 32 * 32 * 3);
  // Image k is filled with the value 10·(k+1) in every channel, with one marked pixel.
  for (let k = 0; k < 3; k++) images.fill(10 * (k + 1), k * 3072, (k + 1) * 3072);
  images[1 * 3072 + (5 * 32 + 7) * 3] = 255; // image 1, row 5, column 7, red
  const grid = tileImages(images, [2, 1], 2);
  assert.equal(grid.width, 2 * 32 + 3 * 2);
  assert.equal(grid.height, 32 + 2 * 2);
  const pixel = (x: number, y: number) =>
    Array.from(grid.rgba.subarray((y * grid.width + x) * 4, (y * grid.width + x) * 4 + 4));
  assert.deepEqual(pixel(0, 0), [255, 255, 255, 255]); // gap
  assert.deepEqual(pixel(2, 2), [30, 30, 30, 255]); // first tile: image 2
  assert.deepEqual(pixel(36, 2), [20, 20, 20, 255]); // second tile: image 1
  assert.deepEqual(pixel(36 + 7, 2 + 5), [255, 20, 20, 255]);
});

test('one 8 × 8 grid per class for 64 images', () => {
  const count = 200;
  const images = new Uint8Array(count * 3072);
  const labels = Array.from({ length: count }, (_, i) => i % 2);
  const losses = Array.from({ length: count }, (_, i) => i);
  const grids = worstSampleGrids(images, labels, losses, ['a', 'b']);
  assert.deepEqual(
    grids.map((g) => g.className),
    ['a', 'b'],
  );
  assert.equal(grids[0]!.indices.length, 64);
  assert.equal(grids[0]!.indices[0], 198);
  assert.equal(grids[1]!.indices[0], 199);
  assert.equal(grids[0]!.grid.width, 8 * 32 + 9 * 2);
  assert.equal(grids[0]!.grid.height, 8 * 32 + 9 * 2);
});
