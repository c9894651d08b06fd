/**
 * The gradient and the approximate neighbour search split over helper threads sharing memory:
 * the same numbers as on one thread (to float rounding: only the order of a few sums changes),
 * and the same numbers again on a second run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  approximateKnn,
  barnesHutGradient,
  clusteredData,
  GradientWorkspace,
  TSNEEmbedding,
} from '../../src/tsne/index.ts';
import { entropyTerm } from '../../src/tsne/gradient.ts';
import { TsneThreads } from '../../src/tsne/threads.ts';
import { assertDeterministicOnThreads, assertSameGradient, d, n, P, X, Y } from './helpers/threaded.ts';

test('threaded gradient (3 threads) equals the single-thread one to float rounding', () => {
  const threads = new TsneThreads(3);
  try {
    threads.setupGradient(P);
    for (const exaggeration of [12, 1]) {
      const single = new Float64Array(2 * n);
      const parallel = new Float64Array(2 * n);
      const one = barnesHutGradient(P, Y, exaggeration, 0.5, single, new GradientWorkspace(n), entropyTerm(P));
      const many = threads.gradient(Y, exaggeration, 0.5, parallel, entropyTerm(P));
      assertSameGradient(single, parallel, one, many);
    }
  } finally {
    threads.close();
  }
});

test('an embedding optimised on 2 threads is the same on a second run, and close to 1 thread', () => {
  assertDeterministicOnThreads((threads) => {
    const embedding = new TSNEEmbedding(
      Y.map((v) => v * 1e-3),
      P,
      { threads },
    );
    embedding.optimize({ iterations: 30, exaggeration: 12, momentum: 0.5 });
    embedding.optimize({ iterations: 20 });
    return embedding.positions;
  });
});

test('the threaded approximate neighbour search gives the single-thread answer', () => {
  const threads = new TsneThreads(2);
  try {
    const parallel = threads.approximateKnn(X, n, d, 30, { seed: 5 });
    const single = approximateKnn(X, n, d, 30, { seed: 5 });
    assert.deepEqual(parallel.indices, single.indices);
    assert.deepEqual(parallel.distances, single.distances);
  } finally {
    threads.close();
  }
});

test("a frame in the watcher's worker thread starts its own helpers (5,000 points, 2 threads) and ends", async () => {
  const { runTsneFrameInWorker } = await import('../../src/tsne/worker.ts');
  const points = 5000;
  const data = clusteredData(points, 8, 6, 4);
  const short = { exaggerationIterations: 20, maxIterations: 25 };
  const result = await runTsneFrameInWorker(data.X, points, 8, { threads: 2, schedule: short });
  assert.equal(result.threads, 2);
  assert.equal(result.iterations, 45);
  assert.ok(Number.isFinite(result.kl) && result.kl > 0);
});
