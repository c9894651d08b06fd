/**
 * The choice between Barnes-Hut and the interpolated repulsion, and the interpolated gradient on
 * helper threads: equal to the single-thread one to float rounding, and the same on a second run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fftGradient, GradientWorkspace, TSNEEmbedding } from '../../src/tsne/index.ts';
import { callerAttractionShare, cheaperRepulsion, entropyTerm } from '../../src/tsne/gradient.ts';
import { FftRepulsion, layoutExtent } from '../../src/tsne/interpolation.ts';
import { TsneThreads } from '../../src/tsne/threads.ts';
import { assertDeterministicOnThreads, assertSameGradient, n, P, Y } from './helpers/threaded.ts';

test('the interpolated gradient on 3 threads equals the single-thread one to float rounding', () => {
  const threads = new TsneThreads(3);
  try {
    threads.setupGradient(P);
    for (const [exaggeration, callerShare] of [
      [12, 0],
      [1, 0],
      [1, 0.3],
    ]) {
      const single = new Float64Array(2 * n);
      const parallel = new Float64Array(2 * n);
      const one = fftGradient(P, Y, exaggeration, single, new GradientWorkspace(n), entropyTerm(P));
      const many = threads.fftGradient(Y, exaggeration, parallel, entropyTerm(P), new FftRepulsion(), callerShare);
      assertSameGradient(single, parallel, one, many);
    }
  } finally {
    threads.close();
  }
});

test('the interpolated repulsion on 2 threads: the same on a second run, and close to 1 thread', () => {
  assertDeterministicOnThreads((threads) => {
    const embedding = new TSNEEmbedding(
      Y.map((v) => v * 1e-3),
      P,
      { threads, repulsion: 'fft' },
    );
    embedding.optimize({ iterations: 30, exaggeration: 12, momentum: 0.5 });
    embedding.optimize({ iterations: 20 });
    assert.deepEqual(embedding.repulsionCounts, { 'barnes-hut': 0, fft: 50 });
    return embedding.positions;
  });
});

test("'auto' keeps Barnes-Hut up to 10,000 points and for spread-out layouts, interpolates compact large ones", () => {
  const nonZerosPerPoint = 108; // measured: symmetrised P of 90 neighbours on real 10,000-point embeddings
  for (const points of [2000, 10000])
    for (const grid of [256, 512, 1024, 2048])
      for (const threads of [1, 2])
        assert.equal(cheaperRepulsion(points, points * nonZerosPerPoint, grid, threads), 'barnes-hut');
  assert.equal(cheaperRepulsion(30000, 30000 * nonZerosPerPoint, 2048, 2), 'barnes-hut');
  assert.equal(cheaperRepulsion(30000, 30000 * nonZerosPerPoint, 256, 1), 'fft');
  assert.equal(cheaperRepulsion(60000, 60000 * nonZerosPerPoint, 256, 2), 'fft');
  // Beside the interpolation the caller takes a share of the attraction only when that outweighs the grid.
  assert.equal(callerAttractionShare(60000, 60000 * nonZerosPerPoint, 256, 2), 0);
  const share = callerAttractionShare(300000, 300000 * nonZerosPerPoint, 256, 2);
  assert.ok(share > 0 && share <= 0.5, `caller's share at 300,000 points: ${share}`);
  // The grid follows the extent: compact layouts get the smallest grid, a spread one a large grid.
  const interpolation = new FftRepulsion();
  assert.equal(
    interpolation.gridSize(
      layoutExtent(
        Y.map((v) => v * 1e-3),
        n,
      ).extent,
    ),
    256,
  );
  assert.equal(interpolation.gridSize(100), 2048);
  assert.equal(interpolation.gridSize(1e6), 2048, 'the grid is capped, wider layouts get coarser intervals');
});

test("an 'auto' embedding records which repulsion each iteration used", () => {
  const embedding = new TSNEEmbedding(Y, P);
  embedding.optimize({ iterations: 5 });
  assert.deepEqual(embedding.repulsionCounts, { 'barnes-hut': 5, fft: 0 });
});
