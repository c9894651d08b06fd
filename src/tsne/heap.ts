/**
 * Max-heaps of a search's k nearest, one per row, in flat arrays: row i's at [i·k, (i + 1)·k) of
 * a distances and an indices array. The neighbour searches (./knn.ts, ./rpforest.ts, their loop in
 * ./row-kernel.wat) and the 2-D neighbours of ./quality.ts fill them; `sortHeaps` orders them.
 */

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
