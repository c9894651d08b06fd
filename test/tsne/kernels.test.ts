/**
 * The WebAssembly loops of t-SNE and their JavaScript stand-ins (used where WebAssembly cannot
 * reserve memory) against plain double-precision arithmetic, and the committed binaries against
 * their source text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { keepNearest } from '../../src/tsne/heap.ts';
import { RowKernel } from '../../src/tsne/row-kernel.ts';
import { AttractionKernel } from '../../src/tsne/force-kernel.ts';
import { useJavaScriptKernels } from '../../src/tsne/wasm.ts';
import { attractiveForces, barnesHutGradient, GradientWorkspace } from '../../src/tsne/gradient.ts';
import { clusteredData, computeAffinities, pcaInit, TSNEEmbedding } from '../../src/tsne/index.ts';
import { createGaussian } from '../../src/util/random.ts';
import { compileWat, KERNELS } from '../../scripts/build-wasm.ts';

function randomRows(n: number, d: number, seed: number): Float32Array {
  const gaussian = createGaussian(seed);
  return Float32Array.from({ length: n * d }, () => gaussian());
}

/** Runs `body` with the JavaScript kernels when `javascript`, then goes back to WebAssembly. */
function withKernels<T>(javascript: boolean, body: () => T): T {
  useJavaScriptKernels(javascript);
  try {
    return body();
  } finally {
    useJavaScriptKernels(false);
  }
}

test('each kernel .wasm is its .wat compiled (run npm run build:wasm after editing the text)', async () => {
  for (const kernel of KERNELS) {
    assert.deepEqual(new Uint8Array(readFileSync(kernel.binary)), await compileWat(kernel.text), kernel.binary);
  }
});

for (const javascript of [false, true]) {
  const engine = javascript ? 'JavaScript' : 'WebAssembly';
  // 19 columns: the rows are padded to 24 floats, so the padding must not count.
  for (const d of [19, 128]) {
    test(`${engine}: squared distances and dot products of ${d}-d rows equal double-precision sums to 1e-5`, () => {
      const n = 200;
      const X = randomRows(n, d, d);
      const rows = withKernels(javascript, () => new RowKernel(X, n, d));
      const listed = [7, 0, 199, 7, 54, 123];
      rows.ids.set(listed);
      const query = 31;
      const distances = Array.from(rows.distances(query, listed.length));
      const vector = Array.from({ length: d }, (_, t) => Math.sin(t + 1));
      const dots = Array.from(rows.dots(vector, listed.length));
      listed.forEach((j, c) => {
        let squared = 0;
        let dot = 0;
        for (let t = 0; t < d; t++) {
          squared += (X[query * d + t] - X[j * d + t]) ** 2;
          dot += vector[t] * X[j * d + t];
        }
        assert.ok(Math.abs(distances[c] - squared) <= 1e-5 * squared, `row ${j}: ${distances[c]} vs ${squared}`);
        assert.ok(Math.abs(dots[c] - dot) <= 1e-5 * (1 + Math.abs(dot)), `row ${j}: ${dots[c]} vs ${dot}`);
      });
    });
  }

  test(`${engine}: nearest keeps what keepNearest keeps of the kernel's distances, ties included`, () => {
    // Rows repeated three times over, on a coarse grid: many distances are equal.
    const n = 300;
    const d = 16;
    const base = randomRows(100, d, 3).map((v) => Math.round(v * 2) / 2);
    const X = Float32Array.from({ length: n * d }, (_, t) => base[t % (100 * d)]!);
    const rows = withKernels(javascript, () => new RowKernel(X, n, d));
    const k = 30;
    // Every row but the query's own; then a shuffled subset of candidates with none left out.
    const everyRow = Int32Array.from({ length: n }, (_, j) => j);
    const subset = Int32Array.from({ length: 120 }, (_, c) => (c * 37 + 11) % n);
    for (const [candidates, leaveOut] of [
      [everyRow, true],
      [subset, false],
    ] as const) {
      for (const query of [0, 57, 299]) {
        const self = leaveOut ? query : -1;
        rows.ids.set(candidates);
        const measured = Float32Array.from(rows.distances(query, candidates.length));
        candidates.forEach((j, c) => {
          if (j === self) measured[c] = Infinity;
        });
        const expected = { indices: new Int32Array(n * k), distances: new Float64Array(n * k) };
        keepNearest(measured, candidates, candidates.length, k, query, expected.indices, expected.distances);
        const found = { indices: new Int32Array(n * k), distances: new Float64Array(n * k) };
        rows.ids.set(candidates);
        rows.nearest(query, candidates.length, k, self, found.indices, found.distances);
        assert.deepEqual(found, expected);
        if (leaveOut) assert.ok(!found.indices.subarray(query * k, (query + 1) * k).includes(query));
      }
    }
  });

  test(`${engine}: the attraction kernel equals attractiveForces to the bit`, () => {
    const n = 300;
    const { X } = clusteredData(n, 16, 4, 5);
    const P = computeAffinities(X, n, 16, { perplexity: 10 });
    const Y = pcaInit(X, n, 16).map((v) => v * 50);
    const kernel = withKernels(javascript, () => new AttractionKernel(P));
    kernel.setPositions(Y);
    const fromKernel = new Float64Array(2 * n);
    kernel.forces(12, fromKernel, 0, n);
    const reference = new Float64Array(2 * n);
    attractiveForces(P, Y, 12, reference, false);
    assert.deepEqual(fromKernel, reference);
  });
}

// The JavaScript loops sum the repulsion in float64 where the kernel sums in float32 (rounding
// each step to float32 made them four times as slow), so the two agree to float32's rounding
// (measured: 1.2e-7 of the gradient, 1e-9 of Z).
test('the Barnes-Hut gradient with the JavaScript kernels equals the WebAssembly one to float32 rounding', () => {
  const n = 500;
  const { X } = clusteredData(n, 16, 5, 9);
  const P = computeAffinities(X, n, 16, { perplexity: 20 });
  const embedding = new TSNEEmbedding(pcaInit(X, n, 16), P);
  embedding.optimize({ iterations: 60, exaggeration: 12, momentum: 0.5 });
  const Y = Float64Array.from(embedding.positions);
  const [kernel, javascript] = [false, true].map((useJavaScript) =>
    withKernels(useJavaScript, () => {
      const grad = new Float64Array(2 * n);
      const { z } = barnesHutGradient(P, Y, 1, 0.5, grad, new GradientWorkspace(n));
      return { grad, z };
    }),
  );
  let difference = 0;
  let size = 0;
  for (let t = 0; t < 2 * n; t++) {
    difference += (kernel!.grad[t] - javascript!.grad[t]) ** 2;
    size += kernel!.grad[t] ** 2;
  }
  assert.ok(Math.sqrt(difference / size) < 1e-6, `relative difference ${Math.sqrt(difference / size)}`);
  assert.ok(Math.abs(kernel!.z - javascript!.z) < 1e-8 * kernel!.z);
});
