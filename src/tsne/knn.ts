/**
 * Exact k nearest neighbours in the input space (squared Euclidean distance).
 *
 * Brute force, each row against every other in the SIMD loop of ./row-kernel.ts (float32 sums: the
 * same neighbours as double-precision ones on the shared CIFAR-10 frames, up to ties closer than
 * about 1e-6 of the distance). Rows are independent, so threads can split them
 * (`TsneThreads.exactKnn`) and get the same answer. At N = 10,000 and D = 128 that is 10^8
 * distances; from `APPROXIMATE_KNN_FROM` points the forest of ./rpforest.ts is faster.
 */
import { sortHeaps } from './heap.ts';
import { RowKernel } from './row-kernel.ts';

export interface Neighbors {
  /** n × k neighbour indices, each row sorted by increasing distance, self excluded. */
  indices: Int32Array;
  /** n × k squared Euclidean distances matching `indices`. */
  distances: Float64Array;
  k: number;
}

export function exactKnn(X: ArrayLike<number>, n: number, d: number, k: number): Neighbors {
  checkKnnInput(X, n, d, k);
  const indices = new Int32Array(n * k);
  const distances = new Float64Array(n * k);
  searchAllRows(new RowKernel(X, n, d), k, 0, n, indices, distances);
  return { indices, distances, k };
}

/** Throws when k neighbours cannot be found among n points, or X holds fewer than n × d values. */
export function checkKnnInput(X: ArrayLike<number>, n: number, d: number, k: number): void {
  if (k >= n) throw new RangeError(`k = ${k} nearest neighbours need more than ${n} points`);
  if (X.length < n * d) throw new RangeError(`expected ${n}×${d} values, got ${X.length}`);
}

/** The k nearest of rows [from, to) among all rows, into `indices`/`distances` (n × k, each row sorted). */
export function searchAllRows(
  rows: RowKernel,
  k: number,
  from: number,
  to: number,
  indices: Int32Array,
  distances: Float64Array,
): void {
  const everyRow = rows.ids;
  for (let j = 0; j < rows.n; j++) everyRow[j] = j;
  for (let i = from; i < to; i++) rows.nearest(i, rows.n, k, i, indices, distances); // not its own neighbour
  sortHeaps(distances.subarray(from * k, to * k), indices.subarray(from * k, to * k), to - from, k);
}
