import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displacement, knn2d, knnPreservation, neighborhoodHit } from '../../src/tsne/index.ts';
import { createGaussian, createRandom } from '../../src/util/random.ts';

test('2-D kNN equals a brute-force search', () => {
  const gaussian = createGaussian(1);
  const n = 257;
  const Y = Float64Array.from({ length: 2 * n }, () => gaussian());
  const k = 10;
  const { indices } = knn2d(Y, n, k);
  for (let i = 0; i < n; i++) {
    const order = [...Array(n).keys()]
      .filter((j) => j !== i)
      .map((j) => ({ j, dist: (Y[2 * i] - Y[2 * j]) ** 2 + (Y[2 * i + 1] - Y[2 * j + 1]) ** 2 }))
      .sort((a, b) => a.dist - b.dist || a.j - b.j);
    assert.deepEqual(
      [...indices.subarray(i * k, i * k + k)],
      order.slice(0, k).map((o) => o.j),
    );
  }
});

test('10-NN preservation is 1 for a layout equal to the input and low for a shuffled one', () => {
  const random = createRandom(2);
  const n = 200;
  const X = Float32Array.from({ length: 2 * n }, () => Math.round(random() * 1e4) / 64); // exact in float32
  const Y = Float64Array.from(X);
  assert.equal(knnPreservation(X, n, 2, Y), 1);
  const shuffled = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const j = (i * 37) % n;
    shuffled[2 * i] = Y[2 * j];
    shuffled[2 * i + 1] = Y[2 * j + 1];
  }
  assert.ok(knnPreservation(X, n, 2, shuffled) < 0.2);
});

test('neighbourhood hit counts same-label neighbours', () => {
  // Two tight groups far apart: every neighbour has the point's label.
  const n = 40;
  const Y = new Float64Array(2 * n);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i < 20 ? 0 : 1;
    Y[2 * i] = (i < 20 ? 0 : 100) + (i % 20) * 0.01;
  }
  assert.equal(neighborhoodHit(Y, labels, 5), 1);
  // Alternating labels on a line: an interior point's 2 nearest neighbours (left, right) never share
  // its label; each end point's second neighbour (two steps in) does: 2 hits out of 2n.
  const line = Float64Array.from({ length: 2 * n }, (_, t) => (t % 2 === 0 ? t / 2 : 0));
  const alternate = Int32Array.from({ length: n }, (_, i) => i % 2);
  assert.equal(neighborhoodHit(line, alternate, 2), 2 / (2 * n));
});

test('displacement is the mean distance moved over the RMS radius', () => {
  const gaussian = createGaussian(4);
  const n = 100;
  const prev = Float64Array.from({ length: 2 * n }, () => gaussian());
  const Y = prev.map((v, t) => v + (t % 2 === 0 ? 0.3 : 0.4)); // every point moves by 0.5
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += Y[2 * i] / n;
    my += Y[2 * i + 1] / n;
  }
  let r2 = 0;
  for (let i = 0; i < n; i++) r2 += ((Y[2 * i] - mx) ** 2 + (Y[2 * i + 1] - my) ** 2) / n;
  assert.ok(Math.abs(displacement(Y, prev) - 0.5 / Math.sqrt(r2)) < 1e-12);
  assert.equal(displacement(prev, prev), 0);
  assert.throws(() => displacement(prev, new Float64Array(4)), /100 and 2 points/);
});
