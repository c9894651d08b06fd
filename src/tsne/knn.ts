/**
 * Exact k nearest neighbours in the input space (squared Euclidean distance).
 *
 * Brute force, each row against every other in the SIMD loop of ./row-kernel.ts (float32 sums: the
 * same neighbours as double-precision ones on the shared CIFAR-10 frames, up to ties closer than
 * about 1e-6 of the distance). Rows are independent, so threads can split them
 * (`TsneThreads.exactKnn`) and get the same answer. At N = 10,000 and D = 128 that is 10^8
 * distances; from `APPROXIMATE_KNN_FROM` points the forest of ./rpforest.ts is faster.
 */
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

/** The k nearest of rows [from, to) among all rows, into `indices`/`distances` (n × k, as `keepNearest`). */
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
  for (let i = from; i < to; i++) {
    const measured = rows.distances(i, rows.n);
    measured[i] = Infinity; // not its own neighbour
    keepNearest(measured, everyRow, rows.n, k, i, indices, distances);
  }
  sortHeaps(distances.subarray(from * k, to * k), indices.subarray(from * k, to * k), to - from, k);
}

/**
 * Row i's heap at [i·k, (i + 1)·k) of `indices`/`distances` (filled afresh) keeps the k nearest of
 * `count` candidates and their measured distances; `sortHeaps` then orders it.
 */
export function keepNearest(
  measured: Float32Array,
  candidates: Int32Array,
  count: number,
  k: number,
  i: number,
  indices: Int32Array,
  distances: Float64Array,
): void {
  const base = i * k;
  distances.fill(Infinity, base, base + k);
  indices.fill(-1, base, base + k);
  for (let c = 0; c < count; c++) {
    if (measured[c] < distances[base]) heapReplaceTop(distances, indices, base, k, measured[c], candidates[c]);
  }
}

/** Replaces the largest entry of the max-heap at [base, base + k) and sifts down. */
export function heapReplaceTop(
  heapDist: Float64Array,
  heapIndex: Int32Array,
  base: number,
  k: number,
  value: number,
  index: number,
): void {
  let pos = 0;
  for (;;) {
    const left = 2 * pos + 1;
    if (left >= k) break;
    const right = left + 1;
    let child = left;
    if (right < k && heapDist[base + right] > heapDist[base + left]) child = right;
    if (heapDist[base + child] <= value) break;
    heapDist[base + pos] = heapDist[base + child];
    heapIndex[base + pos] = heapIndex[base + child];
    pos = child;
  }
  heapDist[base + pos] = value;
  heapIndex[base + pos] = index;
}

/**
 * Turns each row's max-heap into an ascending list, ties broken by index (for determinism): a
 * heapsort in place under that order, no allocation per row.
 */
export function sortHeaps(heapDist: Float64Array, heapIndex: Int32Array, n: number, k: number): void {
  for (let i = 0; i < n; i++) {
    const base = i * k;
    for (let pos = (k >> 1) - 1; pos >= 0; pos--) siftDown(heapDist, heapIndex, base, k, pos);
    for (let size = k - 1; size > 0; size--) {
      swap(heapDist, heapIndex, base, base + size);
      siftDown(heapDist, heapIndex, base, size, 0);
    }
  }
}

/** Whether entry a comes after entry b: farther, or as far with a higher index. */
function after(heapDist: Float64Array, heapIndex: Int32Array, a: number, b: number): boolean {
  return heapDist[a] > heapDist[b] || (heapDist[a] === heapDist[b] && heapIndex[a] > heapIndex[b]);
}

function swap(heapDist: Float64Array, heapIndex: Int32Array, a: number, b: number): void {
  const dist = heapDist[a];
  heapDist[a] = heapDist[b];
  heapDist[b] = dist;
  const index = heapIndex[a];
  heapIndex[a] = heapIndex[b];
  heapIndex[b] = index;
}

/** Restores the max-heap order (by `after`) below `pos` in the heap of `size` entries at `base`. */
function siftDown(heapDist: Float64Array, heapIndex: Int32Array, base: number, size: number, pos: number): void {
  for (;;) {
    const left = 2 * pos + 1;
    if (left >= size) return;
    let child = left;
    if (left + 1 < size && after(heapDist, heapIndex, base + left + 1, base + left)) child = left + 1;
    if (!after(heapDist, heapIndex, base + child, base + pos)) return;
    swap(heapDist, heapIndex, base + pos, base + child);
    pos = child;
  }
}
