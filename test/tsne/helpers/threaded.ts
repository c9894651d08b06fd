/**
 * What the threaded t-SNE tests share: one clustered input with its affinities and a spread
 * layout (so the Barnes-Hut tree has depth and the thread shares cut through it), and the two
 * checks every threaded computation must pass.
 */
import assert from 'node:assert/strict';
import { clusteredData, computeAffinities, pcaInit } from '../../../src/tsne/index.ts';
import { TsneThreads } from '../../../src/tsne/threads.ts';

export const n = 3000;
export const d = 16;
export const { X } = clusteredData(n, d, 6, 2);
export const P = computeAffinities(X, n, d);
export const Y = pcaInit(X, n, d).map((v) => v * 20);

/** A gradient split over threads equals the single-thread one to float rounding, and so does its KL. */
export function assertSameGradient(
  single: Float64Array,
  parallel: Float64Array,
  one: { kl: number },
  many: { kl: number },
): void {
  let worst = 0;
  let largest = 0;
  for (let t = 0; t < single.length; t++) {
    worst = Math.max(worst, Math.abs(single[t]! - parallel[t]!));
    largest = Math.max(largest, Math.abs(single[t]!));
  }
  assert.ok(largest > 0);
  assert.ok(worst <= 1e-12 * largest, `largest difference ${worst} of ${largest}`);
  assert.ok(Math.abs(one.kl - many.kl) <= 1e-12 * Math.abs(one.kl), `KL ${one.kl} vs ${many.kl}`);
}

/**
 * Positions optimised on 2 threads are the same on a second run, and within 1e-6 of those on one
 * thread. `optimise` gets the threads (none for one thread) and returns the final positions.
 */
export function assertDeterministicOnThreads(optimise: (threads: TsneThreads | undefined) => Float64Array): void {
  const run = (threadCount: number) => {
    const threads = threadCount > 1 ? new TsneThreads(threadCount) : undefined;
    try {
      return optimise(threads);
    } finally {
      threads?.close();
    }
  };
  const first = run(2);
  assert.deepEqual(run(2), first);
  const single = run(1);
  let worst = 0;
  for (let t = 0; t < first.length; t++) worst = Math.max(worst, Math.abs(first[t]! - single[t]!));
  assert.ok(worst < 1e-6, `largest coordinate difference 1 vs 2 threads: ${worst}`);
}
