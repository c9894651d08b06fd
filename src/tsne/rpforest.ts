/**
 * Approximate k nearest neighbours from a random-projection forest (the candidate stage of Annoy
 * and pynndescent): each tree splits the points by random hyperplanes until a leaf holds at most
 * `leafSize` points; a point's candidates are the points sharing a leaf with it in any tree, and
 * its neighbours are the k closest candidates by distance. Projections and distances are the
 * float32 SIMD loops of ./row-kernel.ts.
 *
 * The forest is built once (a few projections per point and level; each tree on its own seed, so
 * trees can be built on several threads: `buildTrees`); the candidate search then runs row by row
 * with no shared state but each thread's own `RowKernel`, so any range of rows can be searched on
 * its own thread (`searchForestRows`), and the answer does not depend on how the trees or rows were
 * split.
 */
import { sortHeaps } from './heap.ts';
import { checkKnnInput, type Neighbors } from './knn.ts';
import { RowKernel } from './row-kernel.ts';
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

export function buildForest(rows: RowKernel, options: ForestOptions = {}): Forest {
  const trees = options.trees ?? DEFAULT_TREES;
  const buffers = forestBuffers(trees, rows.n);
  buildTrees(rows, options, buffers, 0, trees);
  return forestOf(buffers, rows.n);
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
  rows: RowKernel,
  options: ForestOptions,
  buffers: ForestBuffers,
  from: number,
  to: number,
): void {
  const { n, d } = rows;
  const leafSize = Math.max(2, options.leafSize ?? DEFAULT_LEAF_SIZE);
  const { order, leafOf, starts, startCounts } = buffers;
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
      const mid = splitRange(rows, ids, start, end, normal, random);
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
  rows: RowKernel,
  ids: Int32Array,
  start: number,
  end: number,
  normal: Float64Array,
  random: Random,
): number {
  const size = end - start;
  const a = rows.rowStart(ids[start + Math.floor(random.next() * size)]);
  let b = rows.rowStart(ids[start + Math.floor(random.next() * (size - 1))]);
  if (b === a) b = rows.rowStart(ids[end - 1]);
  const values = rows.rows;
  let offset = 0;
  for (let t = 0; t < rows.d; t++) {
    const v = values[a + t] - values[b + t];
    normal[t] = v;
    offset += v * (values[a + t] + values[b + t]) * 0.5;
  }
  const range = rows.ids;
  range.set(ids.subarray(start, end));
  const projection = rows.dots(normal, size);
  // Below the plane from the front, above it from the back.
  let lo = start;
  let hi = end - 1;
  for (let c = 0; c < size; c++) {
    if (projection[c] <= offset) ids[lo++] = range[c];
    else ids[hi--] = range[c];
  }
  return lo === start || lo === end ? start + (size >> 1) : lo;
}

/**
 * The k closest candidates of rows [from, to) into `indices`/`distances` (n × k, rows sorted by
 * distance, ties by index). `seen` (length n, any content on the first call) marks the candidates
 * already listed for a row.
 */
export function searchForestRows(
  rows: RowKernel,
  k: number,
  forest: Forest,
  from: number,
  to: number,
  indices: Int32Array,
  distances: Float64Array,
  seen: Int32Array,
): void {
  const n = rows.n;
  const candidates = rows.ids;
  seen.fill(-1);
  for (let i = from; i < to; i++) {
    seen[i] = i;
    let count = 0;
    for (let t = 0; t < forest.trees; t++) {
      const leaf = forest.leafOf[t * n + i];
      const starts = forest.leafStart[t];
      for (let s = t * n + starts[leaf], end = t * n + starts[leaf + 1]; s < end; s++) {
        const j = forest.order[s];
        if (seen[j] === i) continue;
        seen[j] = i;
        candidates[count++] = j;
      }
    }
    // Rare: the leaves of every tree were too small to offer k candidates; every point is one.
    if (count < k) {
      for (let j = 0; j < n; j++) {
        if (seen[j] !== i) candidates[count++] = j;
      }
    }
    rows.nearest(i, count, k, -1, indices, distances);
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
  const rows = new RowKernel(X, n, d);
  const forest = buildForest(rows, options);
  const indices = new Int32Array(n * k);
  const distances = new Float64Array(n * k);
  searchForestRows(rows, k, forest, 0, n, indices, distances, new Int32Array(n));
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
