/**
 * Approximate k nearest neighbours from a random-projection forest (the candidate stage of Annoy
 * and pynndescent): each tree splits the points by random hyperplanes until a leaf holds at most
 * `leafSize` points; a point's candidates are the points sharing a leaf with it in any tree, and
 * its neighbours are the k closest candidates, by exact distance.
 *
 * The forest is built once (a few projections per point and level; each tree on its own seed, so
 * trees can be built on several threads: `buildTrees`); the candidate search then runs row by row
 * with no shared state, so any range of rows can be searched on its own thread
 * (`searchForestRows`), and the answer does not depend on how the trees or rows were split.
 */
import { checkKnnInput, heapReplaceTop, prepareRows, sortHeaps, type Neighbors } from './knn.ts';
import { mixSeed, Random } from '../util/random.ts';

export interface ForestOptions {
  /** Trees in the forest; more trees, higher recall, proportionally more distances. */
  trees?: number;
  /** Most points in a leaf. */
  leafSize?: number;
  seed?: number;
}

/** Chosen at 10,000 real 128-d points: recall 0.99 of 90 neighbours (`npm run bench:tsne` prints it). */
export const DEFAULT_TREES = 15;
export const DEFAULT_LEAF_SIZE = 100;

/** Per tree: the points ordered leaf by leaf, where each leaf starts, and each point's leaf. */
export interface Forest {
  trees: number;
  /** trees × n point indices, leaf by leaf. */
  order: Int32Array;
  /** Per tree, the start of each leaf in `order` (tree t's leaves at leafStart[t]). */
  leafStart: Int32Array[];
  /** trees × n: the leaf of each point in each tree. */
  leafOf: Int32Array;
}

export function buildForest(data: Float64Array, n: number, d: number, options: ForestOptions = {}): Forest {
  const trees = options.trees ?? DEFAULT_TREES;
  const buffers = forestBuffers(trees, n);
  buildTrees(data, n, d, options, buffers, 0, trees);
  return forestOf(buffers, n);
}

/** A forest's arrays while its trees are built, on one thread or several: each tree has its own parts. */
export interface ForestBuffers {
  trees: number;
  order: Int32Array;
  leafOf: Int32Array;
  /** trees × (n + 1): each tree's leaf starts, `startCounts[t]` of them (the last is n). */
  starts: Int32Array;
  startCounts: Int32Array;
}

/** Empty buffers for `trees` trees over n points, in arrays made by `make` (e.g. shared ones). */
export function forestBuffers(
  trees: number,
  n: number,
  make: (length: number) => Int32Array = (length) => new Int32Array(length),
): ForestBuffers {
  return {
    trees,
    order: make(trees * n),
    leafOf: make(trees * n),
    starts: make(trees * (n + 1)),
    startCounts: make(trees),
  };
}

/** The forest whose trees have all been built into `buffers`. */
export function forestOf(buffers: ForestBuffers, n: number): Forest {
  const { trees, order, leafOf, starts, startCounts } = buffers;
  const leafStart = Array.from({ length: trees }, (_, t) => starts.slice(t * (n + 1), t * (n + 1) + startCounts[t]));
  return { trees, order, leafStart, leafOf };
}

/**
 * Builds trees [from, to) into `buffers`. Each tree draws from its own seed (the forest's seed
 * mixed with the tree's number), so a tree is the same whichever thread builds it.
 */
export function buildTrees(
  data: Float64Array,
  n: number,
  d: number,
  options: ForestOptions,
  buffers: ForestBuffers,
  from: number,
  to: number,
): void {
  const leafSize = Math.max(2, options.leafSize ?? DEFAULT_LEAF_SIZE);
  const { order, leafOf, starts, startCounts } = buffers;
  const projection = new Float64Array(n);
  const normal = new Float64Array(d);
  const random = new Random(0);
  for (let t = from; t < to; t++) {
    random.reseed(mixSeed(options.seed ?? 0, t));
    const ids = order.subarray(t * n, (t + 1) * n);
    for (let i = 0; i < n; i++) ids[i] = i;
    const treeStarts = starts.subarray(t * (n + 1), (t + 1) * (n + 1));
    let leaves = 0;
    // Depth-first over ranges of `ids`, leftmost first, so leaves come out in order.
    const stack: number[] = [0, n];
    while (stack.length > 0) {
      const end = stack.pop()!;
      const start = stack.pop()!;
      if (end - start <= leafSize) {
        treeStarts[leaves++] = start;
        continue;
      }
      const mid = splitRange(data, d, ids, start, end, projection, normal, random);
      stack.push(mid, end, start, mid);
    }
    treeStarts[leaves] = n;
    startCounts[t] = leaves + 1;
    for (let leaf = 0; leaf < leaves; leaf++) {
      for (let s = treeStarts[leaf]; s < treeStarts[leaf + 1]; s++) leafOf[t * n + ids[s]] = leaf;
    }
  }
}

/**
 * Splits ids[start, end) by the hyperplane halfway between two random points of the range,
 * normal to their difference; returns the first index of the second half. A degenerate split
 * (all points on one side, e.g. duplicates) falls back to halving the range as it stands.
 */
function splitRange(
  data: Float64Array,
  d: number,
  ids: Int32Array,
  start: number,
  end: number,
  projection: Float64Array,
  normal: Float64Array,
  random: Random,
): number {
  const size = end - start;
  const a = ids[start + Math.floor(random.next() * size)] * d;
  let b = ids[start + Math.floor(random.next() * (size - 1))] * d;
  if (b === a) b = ids[end - 1] * d;
  let offset = 0;
  for (let t = 0; t < d; t++) {
    const v = data[a + t] - data[b + t];
    normal[t] = v;
    offset += v * (data[a + t] + data[b + t]) * 0.5;
  }
  for (let s = start; s < end; s++) {
    const row = ids[s] * d;
    let dot = 0;
    for (let t = 0; t < d; t++) dot += data[row + t] * normal[t];
    projection[ids[s]] = dot - offset;
  }
  let lo = start;
  let hi = end - 1;
  while (lo <= hi) {
    if (projection[ids[lo]] <= 0) lo++;
    else {
      const swap = ids[lo];
      ids[lo] = ids[hi];
      ids[hi--] = swap;
    }
  }
  return lo === start || lo === end ? start + (size >> 1) : lo;
}

/**
 * The k closest candidates of rows [from, to) into `indices`/`distances` (n × k, rows sorted by
 * distance, ties by index). `norms` holds each row's squared norm. `seen` (length n, any content
 * on the first call) marks the candidates already measured for a row.
 */
export function searchForestRows(
  data: Float64Array,
  norms: Float64Array,
  n: number,
  d: number,
  k: number,
  forest: Forest,
  from: number,
  to: number,
  indices: Int32Array,
  distances: Float64Array,
  seen: Int32Array,
): void {
  seen.fill(-1);
  for (let i = from; i < to; i++) {
    const base = i * k;
    distances.fill(Infinity, base, base + k);
    indices.fill(-1, base, base + k);
    seen[i] = i;
    const a = i * d;
    const normI = norms[i];
    for (let t = 0; t < forest.trees; t++) {
      const leaf = forest.leafOf[t * n + i];
      const starts = forest.leafStart[t];
      const ids = forest.order;
      for (let s = t * n + starts[leaf], end = t * n + starts[leaf + 1]; s < end; s++) {
        const j = ids[s];
        if (seen[j] === i) continue;
        seen[j] = i;
        const b = j * d;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let q = 0;
        for (; q + 3 < d; q += 4) {
          s0 += data[a + q] * data[b + q];
          s1 += data[a + q + 1] * data[b + q + 1];
          s2 += data[a + q + 2] * data[b + q + 2];
          s3 += data[a + q + 3] * data[b + q + 3];
        }
        for (; q < d; q++) s0 += data[a + q] * data[b + q];
        const squared = normI + norms[j] - 2 * (s0 + s1 + s2 + s3);
        const value = squared > 0 ? squared : 0;
        if (value < distances[base]) heapReplaceTop(distances, indices, base, k, value, j);
      }
    }
    // Rare: the leaves of every tree were too small to offer k candidates; finish the row by brute force.
    if (indices[base] === -1) {
      for (let j = 0; j < n; j++) {
        if (seen[j] === i) continue;
        let dot = 0;
        for (let q = 0; q < d; q++) dot += data[a + q] * data[j * d + q];
        const squared = normI + norms[j] - 2 * dot;
        const value = squared > 0 ? squared : 0;
        if (value < distances[base]) heapReplaceTop(distances, indices, base, k, value, j);
      }
    }
  }
  sortHeaps(distances.subarray(from * k, to * k), indices.subarray(from * k, to * k), to - from, k);
}

/** Approximate kNN on this thread. */
export function approximateKnn(
  X: ArrayLike<number>,
  n: number,
  d: number,
  k: number,
  options: ForestOptions = {},
): Neighbors {
  checkKnnInput(X, n, d, k);
  const { data, norms } = prepareRows(X, n, d);
  const forest = buildForest(data, n, d, options);
  const indices = new Int32Array(n * k);
  const distances = new Float64Array(n * k);
  searchForestRows(data, norms, n, d, k, forest, 0, n, indices, distances, new Int32Array(n));
  return { indices, distances, k };
}

/** Share of the exact neighbours the approximate ones found (mean over rows of |A ∩ E| / k). */
export function knnRecall(approximate: Neighbors, exact: Neighbors, n: number, k = exact.k): number {
  let found = 0;
  const mark = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) mark[exact.indices[i * exact.k + t]] = i;
    for (let t = 0; t < k; t++) if (mark[approximate.indices[i * approximate.k + t]] === i) found++;
  }
  return found / (n * k);
}
