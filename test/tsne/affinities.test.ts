import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calibrateRows, clusteredData, computeAffinities, exactKnn } from '../../src/tsne/index.ts';
import { createGaussian } from '../../src/util/random.ts';

function bruteForceNeighbors(X: Float32Array, n: number, d: number, i: number, k: number) {
  const all: { j: number; dist: number }[] = [];
  for (let j = 0; j < n; j++) {
    if (j === i) continue;
    let s = 0;
    for (let t = 0; t < d; t++) s += (X[i * d + t] - X[j * d + t]) ** 2;
    all.push({ j, dist: s });
  }
  return all.sort((a, b) => a.dist - b.dist || a.j - b.j).slice(0, k);
}

test('exact kNN equals a brute-force search, rows sorted by distance (float32 sums: to 1e-5)', () => {
  const n = 301;
  const d = 19; // rows padded to 24 floats in the kernel
  const gaussian = createGaussian(5);
  const X = Float32Array.from({ length: n * d }, () => gaussian());
  const k = 12;
  const { indices, distances } = exactKnn(X, n, d, k);
  for (let i = 0; i < n; i++) {
    const expected = bruteForceNeighbors(X, n, d, i, k);
    for (let a = 0; a < k; a++) {
      assert.equal(indices[i * k + a], expected[a].j, `row ${i}, neighbour ${a}`);
      assert.ok(Math.abs(distances[i * k + a] - expected[a].dist) < 1e-5 * (1 + expected[a].dist));
    }
  }
});

for (const perplexity of [5, 30]) {
  test(`every row is calibrated to perplexity ${perplexity} within 1e-3 in log space`, () => {
    const n = 500;
    const d = 32;
    const { X } = clusteredData(n, d, 5, 2);
    const k = 3 * perplexity;
    const neighbors = exactKnn(X, n, d, k);
    const { values, entropy } = calibrateRows(neighbors, n, k, perplexity);
    for (let i = 0; i < n; i++) {
      // Recompute the entropy from the probabilities themselves, not from the search's bookkeeping.
      let h = 0;
      let sum = 0;
      for (let t = 0; t < k; t++) {
        const p = values[i * k + t];
        sum += p;
        if (p > 0) h -= p * Math.log(p);
      }
      assert.ok(Math.abs(sum - 1) < 1e-12, `row ${i} sums to ${sum}`);
      assert.ok(
        Math.abs(h - Math.log(perplexity)) < 1e-3,
        `row ${i}: log perplexity ${h}, target ${Math.log(perplexity)}`,
      );
      assert.ok(Math.abs(entropy[i] - h) < 1e-9);
    }
  });
}

test('P is symmetric, non-negative, has no diagonal, sums to 1 and equals (p(j|i) + p(i|j)) / 2N', () => {
  const n = 400;
  const d = 16;
  const { X } = clusteredData(n, d, 4, 3);
  const P = computeAffinities(X, n, d, { perplexity: 20 });
  const lookup = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let e = P.rowPtr[i]; e < P.rowPtr[i + 1]; e++) {
      const j = P.colIndex[e];
      assert.notEqual(j, i, 'diagonal entry');
      assert.ok(P.values[e] > 0);
      assert.ok(!lookup.has(i * n + j), `P[${i},${j}] listed twice`);
      lookup.set(i * n + j, P.values[e]);
      total += P.values[e];
    }
  }
  assert.ok(Math.abs(total - 1) < 1e-12, `sum ${total}`);
  for (const [key, value] of lookup) {
    const i = Math.floor(key / n);
    const j = key % n;
    assert.equal(lookup.get(j * n + i), value, `P[${i},${j}] != P[${j},${i}]`);
  }
  // Against the formula, from the conditional probabilities.
  const k = 60;
  const conditional = calibrateRows(P.neighbors, n, k, 20).values;
  const pCond = (i: number, j: number) => {
    for (let t = 0; t < k; t++) if (P.neighbors.indices[i * k + t] === j) return conditional[i * k + t];
    return 0;
  };
  for (const [i, j] of [
    [0, P.neighbors.indices[0]],
    [17, P.neighbors.indices[17 * k + 5]],
    [399, P.neighbors.indices[399 * k + 59]],
  ]) {
    const expected = (pCond(i, j) + pCond(j, i)) / (2 * n);
    assert.ok(Math.abs((lookup.get(i * n + j) ?? 0) - expected) < 1e-15, `P[${i},${j}]`);
  }
});
