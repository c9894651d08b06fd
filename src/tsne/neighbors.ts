/**
 * The input-space neighbour search t-SNE's affinities are built from, resolved in one place:
 * exact (brute force, `knn.ts`) for small N, a random-projection forest (`rpforest.ts`) above
 * `APPROXIMATE_KNN_FROM` points, where brute force grows as N² and the forest as N.
 *
 * Measured (`npm run bench:tsne` and recall checks, real 128-d CIFAR-10 embeddings, 90 neighbours,
 * 2-core machine loaded by other jobs): at 2,000 points both take ≈ 0.5 s (forest recall 0.97);
 * at 10,000 the exact search takes 5.5–9.6 s, the forest (15 trees, leaves of ≤ 100) 1.6–2.3 s
 * at recall 0.99 of the 90 neighbours and 0.9999 of the nearest 10; at 30,000 points its recall
 * of the 90 is 0.979 (`npm run bench:tsne` prints it).
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
