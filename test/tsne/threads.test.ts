/**
 * The gradient and the neighbour searches split over helper threads sharing memory:
 * the same numbers as on one thread (to float rounding: only the order of a few sums changes),
 * and the same numbers again on a second run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  approximateKnn,
  barnesHutGradient,
  calibrateRows,
  clusteredData,
  exactKnn,
  GradientWorkspace,
  KeptThreads,
  TSNEEmbedding,
  tsneFrame,
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

test("the threads claim the gradient's items as they go, yet it is the same bit for bit on 2 and 3 threads", () => {
  const gradientOn = (threadCount: number, repeats: number) => {
    const threads = new TsneThreads(threadCount);
    try {
      threads.setupGradient(P);
      const results = Array.from({ length: repeats }, () => {
        const grad = new Float64Array(2 * n);
        const { kl } = threads.gradient(Y, 1, 0.5, grad, entropyTerm(P));
        return { grad, kl };
      });
      return results;
    } finally {
      threads.close();
    }
  };
  const [first, ...again] = gradientOn(2, 5);
  for (const other of [...again, ...gradientOn(3, 2)]) {
    assert.deepEqual(other.grad, first!.grad);
    assert.equal(other.kl, first!.kl);
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

test('the threaded approximate neighbour search (trees and rows split) gives the single-thread answer', () => {
  const single = approximateKnn(X, n, d, 30, { seed: 5 });
  for (const threadCount of [2, 3]) {
    const threads = new TsneThreads(threadCount);
    try {
      const parallel = threads.approximateKnn(X, n, d, 30, { seed: 5 });
      assert.deepEqual(parallel.indices, single.indices, `${threadCount} threads`);
      assert.deepEqual(parallel.distances, single.distances, `${threadCount} threads`);
    } finally {
      threads.close();
    }
  }
});

test('the threaded exact neighbour search gives the single-thread answer, for any split of the rows', () => {
  // 3,000 points, 203 (not a multiple of the threads' blocks of rows), 9 (3 threads, 3 rows).
  for (const [points, k, threadCount] of [
    [n, 30, 2],
    [203, 20, 3],
    [9, 5, 3],
  ] as const) {
    const data = points === n ? X : clusteredData(points, d, 3, 7).X;
    const threads = new TsneThreads(threadCount);
    try {
      const parallel = threads.exactKnn(data, points, d, k);
      const single = exactKnn(data, points, d, k);
      assert.deepEqual(parallel.indices, single.indices, `${points} points, ${threadCount} threads`);
      assert.deepEqual(parallel.distances, single.distances, `${points} points, ${threadCount} threads`);
    } finally {
      threads.close();
    }
  }
});

test('kept helpers serve frame after frame, from 500 points, and a new thread count replaces them', () => {
  const kept = new KeptThreads();
  try {
    const points = 600;
    const data = clusteredData(points, 8, 4, 3).X;
    const short = { exaggerationIterations: 10, maxIterations: 10 };
    const first = tsneFrame(data, points, 8, { threads: 2, schedule: short }, kept);
    const helpers = kept.get(2);
    const second = tsneFrame(data, points, 8, { threads: 2, schedule: short, init: first.positions }, kept);
    assert.equal(first.threads, 2);
    assert.equal(second.threads, 2);
    assert.equal(kept.get(2), helpers, 'the same helpers for the next frame');
    // Without kept helpers a frame this small runs on one thread: starting them would cost more.
    assert.equal(tsneFrame(data, points, 8, { threads: 2, schedule: short }).threads, 1);
    assert.notEqual(kept.get(3), helpers);
    assert.equal(kept.get(3).threads, 3);
  } finally {
    kept.close();
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

test('the threaded calibration of P (rows split) gives the single-thread answer to the bit', () => {
  const threads = new TsneThreads(3);
  try {
    const neighbors = exactKnn(X, n, d, 30);
    const single = calibrateRows(neighbors, n, 30, 10);
    const parallel = threads.calibrateRows(neighbors, n, 30, 10);
    assert.deepEqual(Float64Array.from(parallel.values), single.values);
    assert.deepEqual(Float64Array.from(parallel.beta), single.beta);
    assert.deepEqual(Float64Array.from(parallel.entropy), single.entropy);
  } finally {
    threads.close();
  }
});
