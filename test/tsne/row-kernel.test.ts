/**
 * The WebAssembly loops of the neighbour searches against plain double-precision arithmetic, and
 * the committed binary against its source text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RowKernel } from '../../src/tsne/row-kernel.ts';
import { createGaussian } from '../../src/util/random.ts';
import { compileWat, KERNELS } from '../../scripts/build-wasm.ts';

function randomRows(n: number, d: number, seed: number): Float32Array {
  const gaussian = createGaussian(seed);
  return Float32Array.from({ length: n * d }, () => gaussian());
}

test('each kernel .wasm is its .wat compiled (run npm run build:wasm after editing the text)', async () => {
  for (const kernel of KERNELS) {
    assert.deepEqual(new Uint8Array(readFileSync(kernel.binary)), await compileWat(kernel.text), kernel.binary);
  }
});

// 19 columns: the rows are padded to 24 floats, so the padding must not count.
for (const d of [19, 128]) {
  test(`squared distances and dot products of ${d}-d rows equal double-precision sums to 1e-5`, () => {
    const n = 200;
    const X = randomRows(n, d, d);
    const rows = new RowKernel(X, n, d);
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
