/**
 * Exact k nearest neighbours in the input space (squared Euclidean distance).
 *
 * Brute force, but arranged for speed: every pair is computed once (i < j) and offered to both
 * rows' candidate heaps, four query rows share each load of a candidate row, and candidates are
 * visited in cache-sized tiles. At N = 10,000 and D = 128 that is 5·10^7 dot products, which a
 * tight loop does in seconds, and the answer is exact, which a tree in 128-d rarely beats.
 */

export interface Neighbors {
  /** n × k neighbour indices, each row sorted by increasing distance, self excluded. */
  indices: Int32Array;
  /** n × k squared Euclidean distances matching `indices`. */
  distances: Float64Array;
  k: number;
}

/** Rows of the candidate tile: 256 rows × 128 doubles = 256 KiB, about an L2 cache. */
const TILE_ROWS = 256;

export function exactKnn(X: ArrayLike<number>, n: number, d: number, k: number): Neighbors {
  checkKnnInput(X, n, d, k);
  const { data, norms } = prepareRows(X, n, d);
  const heaps = emptyHeaps(n, k);
  offerPairsOfRows(data, norms, n, d, k, 0, n, heaps.distances, heaps.indices);
  sortHeaps(heaps.distances, heaps.indices, n, k);
  return { ...heaps, k };
}

/** Throws when k neighbours cannot be found among n points, or X holds fewer than n × d values. */
export function checkKnnInput(X: ArrayLike<number>, n: number, d: number, k: number): void {
  if (k >= n) throw new RangeError(`k = ${k} nearest neighbours need more than ${n} points`);
  if (X.length < n * d) throw new RangeError(`expected ${n}×${d} values, got ${X.length}`);
}

/** Rows as float64 and their squared norms: the layout both searches (exact and forest) read. */
export function prepareRows(X: ArrayLike<number>, n: number, d: number): { data: Float64Array; norms: Float64Array } {
  const data = new Float64Array(n * d);
  for (let t = 0; t < n * d; t++) data[t] = X[t];
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = i * d, end = t + d; t < end; t++) s += data[t] * data[t];
    norms[i] = s;
  }
  return { data, norms };
}

/** n max-heaps of k candidates, all empty (distance ∞, index −1), in the given arrays or new ones. */
export function emptyHeaps(
  n: number,
  k: number,
  distances = new Float64Array(n * k),
  indices = new Int32Array(n * k),
): { distances: Float64Array; indices: Int32Array } {
  distances.fill(Infinity);
  indices.fill(-1);
  return { distances, indices };
}

/**
 * Offers every pair (i, j) with i in [rowFrom, rowTo) and j > i to both rows' heaps: with
 * [0, n) every unordered pair once; ranges that cover [0, n) between them (one per thread, each
 * with heaps of its own) offer each pair exactly once in all.
 */
export function offerPairsOfRows(
  data: Float64Array,
  norms: Float64Array,
  n: number,
  d: number,
  k: number,
  rowFrom: number,
  rowTo: number,
  heapDist: Float64Array,
  heapIndex: Int32Array,
): void {
  const last = rowTo - 1;
  for (let tileStart = rowFrom + 1; tileStart < n; tileStart += TILE_ROWS) {
    const tileEnd = Math.min(n, tileStart + TILE_ROWS);
    // Query rows i < tileEnd meet the tile rows j > i.
    for (let i0 = rowFrom; i0 < Math.min(tileEnd, rowTo); i0 += 4) {
      // A block of four query rows, the missing ones repeating the last (offerBlock skips repeats).
      const i1 = Math.min(i0 + 1, last);
      const i2 = Math.min(i0 + 2, last);
      const i3 = Math.min(i0 + 3, last);
      const a0 = i0 * d;
      const a1 = i1 * d;
      const a2 = i2 * d;
      const a3 = i3 * d;
      const jStart = Math.max(tileStart, i0 + 1);
      let j = jStart;
      // Two candidate rows at a time: eight dot products share every load.
      for (; j + 1 < tileEnd; j += 2) {
        const b = j * d;
        const c = b + d;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let r0 = 0;
        let r1 = 0;
        let r2 = 0;
        let r3 = 0;
        for (let t = 0; t < d; t++) {
          const x = data[b + t];
          const y = data[c + t];
          const p0 = data[a0 + t];
          const p1 = data[a1 + t];
          const p2 = data[a2 + t];
          const p3 = data[a3 + t];
          s0 += p0 * x;
          s1 += p1 * x;
          s2 += p2 * x;
          s3 += p3 * x;
          r0 += p0 * y;
          r1 += p1 * y;
          r2 += p2 * y;
          r3 += p3 * y;
        }
        offerBlock(i0, i1, i2, i3, j, s0, s1, s2, s3, norms, heapDist, heapIndex, k);
        offerBlock(i0, i1, i2, i3, j + 1, r0, r1, r2, r3, norms, heapDist, heapIndex, k);
      }
      for (; j < tileEnd; j++) {
        const b = j * d;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let t = 0; t < d; t++) {
          const x = data[b + t];
          s0 += data[a0 + t] * x;
          s1 += data[a1 + t] * x;
          s2 += data[a2 + t] * x;
          s3 += data[a3 + t] * x;
        }
        offerBlock(i0, i1, i2, i3, j, s0, s1, s2, s3, norms, heapDist, heapIndex, k);
      }
    }
  }
}

/**
 * Row boundaries for `parts` threads of `offerPairsOfRows`: each range's pairs (i, j > i) about an
 * equal share of all (a row's count falls as n − i), boundaries on multiples of 4 (its row blocks).
 */
export function pairRowSplit(n: number, parts: number): Int32Array {
  const split = new Int32Array(parts + 1);
  const pairs = (n * (n - 1)) / 2;
  for (let w = 1; w < parts; w++) {
    // Pairs of rows [0, b): b·n − b(b + 1)/2; solved for the w-th share.
    const b = n - 0.5 - Math.sqrt((n - 0.5) ** 2 - (2 * w * pairs) / parts);
    split[w] = Math.min(n, Math.max(split[w - 1], 4 * Math.round(b / 4)));
  }
  split[parts] = n;
  return split;
}

/**
 * The k nearest of each row from several sets of sorted heaps (`sortHeaps`) over disjoint
 * candidates: merged by distance, ties by index, so the answer does not depend on which set
 * found a candidate.
 */
export function mergeSortedHeaps(
  parts: readonly { distances: Float64Array; indices: Int32Array }[],
  n: number,
  k: number,
): Neighbors {
  const distances = new Float64Array(n * k);
  const indices = new Int32Array(n * k);
  const cursor = new Int32Array(parts.length);
  for (let i = 0; i < n; i++) {
    const base = i * k;
    cursor.fill(0);
    for (let out = 0; out < k; out++) {
      let best = -1;
      for (let p = 0; p < parts.length; p++) {
        if (cursor[p] === k) continue;
        if (best < 0) {
          best = p;
          continue;
        }
        const a = parts[p]!;
        const b = parts[best]!;
        const da = a.distances[base + cursor[p]];
        const db = b.distances[base + cursor[best]];
        if (da < db || (da === db && a.indices[base + cursor[p]] < b.indices[base + cursor[best]])) best = p;
      }
      const from = parts[best]!;
      distances[base + out] = from.distances[base + cursor[best]];
      indices[base + out] = from.indices[base + cursor[best]++];
    }
  }
  return { indices, distances, k };
}

/** Offers the four query rows' distances to candidate j; rows at or past j were already paired. */
function offerBlock(
  i0: number,
  i1: number,
  i2: number,
  i3: number,
  j: number,
  s0: number,
  s1: number,
  s2: number,
  s3: number,
  norms: Float64Array,
  heapDist: Float64Array,
  heapIndex: Int32Array,
  k: number,
): void {
  const nj = norms[j];
  if (i0 < j) offerPair(i0, j, norms[i0] + nj - 2 * s0, heapDist, heapIndex, k);
  if (i1 < j && i1 !== i0) offerPair(i1, j, norms[i1] + nj - 2 * s1, heapDist, heapIndex, k);
  if (i2 < j && i2 !== i1) offerPair(i2, j, norms[i2] + nj - 2 * s2, heapDist, heapIndex, k);
  if (i3 < j && i3 !== i2) offerPair(i3, j, norms[i3] + nj - 2 * s3, heapDist, heapIndex, k);
}

function offerPair(i: number, j: number, dist: number, heapDist: Float64Array, heapIndex: Int32Array, k: number): void {
  // Cancellation in |a|² + |b|² − 2a·b can go slightly negative for near-duplicates.
  const value = dist > 0 ? dist : 0;
  if (value < heapDist[i * k]) heapReplaceTop(heapDist, heapIndex, i * k, k, value, j);
  if (value < heapDist[j * k]) heapReplaceTop(heapDist, heapIndex, j * k, k, value, i);
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
