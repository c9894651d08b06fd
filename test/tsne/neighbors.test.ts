/**
 * The approximate neighbour search against the exact one, on the shared CIFAR-10 frames (real
 * 128-d embeddings): recall of the 90 neighbours t-SNE uses at perplexity 30.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { approximateKnn, clusteredData, exactKnn, findNeighbors, knnRecall } from '../../src/tsne/index.ts';
import { parseNumberTable } from '../../src/util/tsv.ts';
import { needs } from '../helpers/requirements.ts';

const FIXTURES = join(import.meta.dirname, '../../../shared/fixtures/embeddings');

test(
  'random-projection forest: recall >= 0.95 of the exact 90 neighbours on a real frame',
  { skip: needs('shared') },
  () => {
    const path = join(FIXTURES, 'frame_09.tsv');
    const { data, rows: n, cols: d } = parseNumberTable(readFileSync(path, 'utf8'), path);
    const X = Float32Array.from(data);
    const exact = exactKnn(X, n, d, 90);
    // The default forest (15 trees, leaves of <= 100): at most 1,500 of the 2,000 points per row.
    const approximate = approximateKnn(X, n, d, 90);
    const recall = knnRecall(approximate, exact, n);
    assert.ok(recall >= 0.95, `recall ${recall}`);
    // Rows are sorted by distance and never list a point itself or twice.
    for (let i = 0; i < n; i++) {
      const row = approximate.indices.subarray(i * 90, (i + 1) * 90);
      assert.equal(new Set(row).size, 90);
      assert.ok(!row.includes(i));
      for (let t = 1; t < 90; t++)
        assert.ok(approximate.distances[i * 90 + t] >= approximate.distances[i * 90 + t - 1]);
    }
    console.log(`# recall of 90 neighbours, default forest: ${recall.toFixed(4)}`);
  },
);

test('a forest too small to offer k candidates still returns k neighbours (brute force for those rows)', () => {
  const { X } = clusteredData(200, 8, 4, 3);
  const approximate = approximateKnn(X, 200, 8, 20, { trees: 1, leafSize: 4 });
  const exact = exactKnn(X, 200, 8, 20);
  assert.ok(!approximate.indices.includes(-1));
  assert.equal(knnRecall(approximate, exact, 200), 1);
});

test("'auto' is exact below the crossover and a fixed seed gives the same approximate answer", () => {
  const { X } = clusteredData(300, 8, 4, 3);
  assert.deepEqual(findNeighbors(X, 300, 8, 10).indices, exactKnn(X, 300, 8, 10).indices);
  const a = findNeighbors(X, 300, 8, 10, { method: 'approximate', seed: 1 });
  const b = findNeighbors(X, 300, 8, 10, { method: 'approximate', seed: 1 });
  assert.deepEqual(a, b);
});
