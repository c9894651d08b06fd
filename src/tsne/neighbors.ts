/**
 * The input-space neighbour search t-SNE's affinities are built from, resolved in one place:
 * exact (brute force, `knn.ts`) for small N, a random-projection forest (`rpforest.ts`) above
 * `APPROXIMATE_KNN_FROM` points, where brute force grows as N² and the forest as N.
 *
 * Measured (real 128-d CIFAR-10 embeddings, 90 neighbours, 2 threads, both searches in the SIMD
 * loops of ./row-kernel.ts, 2026-12-04): 1,000 points 37–57 ms exact, 33–58 ms forest (recall
 * 0.995); 2,000 points 107–112 against 54–56 ms (0.990); 5,000 points 476–498 against 144–170 ms
 * (0.990); 10,000 points 1.7–1.8 s against 0.33–0.38 s (0.988; 0.9998 of the nearest 10). Below
 * 5,000 points the exact search takes under half a second and its neighbours are
 * exact; above, it grows as N² and the forest as N. At 30,000 points the forest's recall of the 90
 * is 0.979 (`npm run bench:tsne` prints it).
 */
import { exactKnn, type Neighbors } from './knn.ts';
import { approximateKnn } from './rpforest.ts';
import type { TsneThreads } from './threads.ts';

export type NeighborSearch = 'exact' | 'approximate' | 'auto';

/** The smallest N at which 'auto' uses the forest. */
export const APPROXIMATE_KNN_FROM = 5000;

export interface NeighborOptions {
  /** 'auto' (default): exact below `APPROXIMATE_KNN_FROM` points, approximate from there on. */
  method?: NeighborSearch;
  /** Seeds the forest's random hyperplanes. */
  seed?: number;
  /** Helper threads to split the search with (the same answer for any count, up to exact ties in distance). */
  threads?: TsneThreads;
}

export function resolveNeighborSearch(method: NeighborSearch | undefined, n: number): 'exact' | 'approximate' {
  if (method === undefined || method === 'auto') return n >= APPROXIMATE_KNN_FROM ? 'approximate' : 'exact';
  return method;
}

export function findNeighbors(
  X: ArrayLike<number>,
  n: number,
  d: number,
  k: number,
  options: NeighborOptions = {},
): Neighbors {
  if (resolveNeighborSearch(options.method, n) === 'exact') {
    return options.threads ? options.threads.exactKnn(X, n, d, k) : exactKnn(X, n, d, k);
  }
  return options.threads
    ? options.threads.approximateKnn(X, n, d, k, { seed: options.seed })
    : approximateKnn(X, n, d, k, { seed: options.seed });
}
