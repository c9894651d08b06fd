/**
 * Quality measures of a 2-D frame, also logged by the watcher as TensorBoard scalars.
 */
import { centroid } from './centroid.ts';
import { heapReplaceTop, sortHeaps } from './heap.ts';
import { exactKnn, type Neighbors } from './knn.ts';

/**
 * Input-space neighbours already computed for an input array (by `computeAffinities` inside
 * `tsneFrame`), so measuring a frame does not redo the 128-d search.
 */
const knownNeighbors = new WeakMap<object, Neighbors>();

export function rememberNeighbors(X: object, neighbors: Neighbors): void {
  knownNeighbors.set(X, neighbors);
}

/** The first k columns of the n × K neighbour table, as an n × k table. */
function firstColumns(neighbors: Neighbors, n: number, k: number): Int32Array {
  if (neighbors.k === k) return neighbors.indices;
  const out = new Int32Array(n * k);
  for (let i = 0; i < n; i++) out.set(neighbors.indices.subarray(i * neighbors.k, i * neighbors.k + k), i * k);
  return out;
}

/**
 * 10-NN preservation: the mean over points of |kNN_input(i) ∩ kNN_2d(i)| / k.
 * Ties in the input space are broken by index.
 */
export function knnPreservation(X: ArrayLike<number>, n: number, d: number, Y: Float64Array, k = 10): number {
  const cached = knownNeighbors.get(X as object);
  const high = cached && cached.k >= k ? firstColumns(cached, n, k) : exactKnn(X, n, d, k).indices;
  const low = knn2d(Y, n, k).indices;
  return overlap(high, low, n, k);
}

/** Same measure from precomputed input-space neighbours (n × k, sorted rows). */
export function knnPreservationFromNeighbors(high: Neighbors, Y: Float64Array, k = 10): number {
  const n = Y.length / 2;
  return overlap(firstColumns(high, n, k), knn2d(Y, n, k).indices, n, k);
}

function overlap(high: Int32Array, low: Int32Array, n: number, k: number): number {
  let shared = 0;
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < k; a++) {
      const j = high[i * k + a];
      for (let b = 0; b < k; b++) {
        if (low[i * k + b] === j) {
          shared++;
          break;
        }
      }
    }
  }
  return shared / (n * k);
}

/** Neighbourhood hit: the share of each point's k nearest 2-D neighbours that carry its label. */
export function neighborhoodHit(Y: Float64Array, labels: ArrayLike<number>, k = 10): number {
  const n = Y.length / 2;
  if (labels.length !== n) throw new RangeError(`${labels.length} labels for ${n} points`);
  const { indices } = knn2d(Y, n, k);
  let same = 0;
  for (let i = 0; i < n; i++) for (let a = 0; a < k; a++) if (labels[indices[i * k + a]] === labels[i]) same++;
  return same / (n * k);
}

/**
 * Displacement: the mean distance each point moved since the previous (aligned) frame, divided by
 * this frame's RMS radius about its centroid, so it does not depend on the frame's scale.
 */
export function displacement(Y: Float64Array, prevY: Float64Array): number {
  if (Y.length !== prevY.length)
    throw new RangeError(`frames differ in size: ${Y.length / 2} and ${prevY.length / 2} points`);
  const n = Y.length / 2;
  const [mx, my] = centroid(Y);
  let moved = 0;
  let radius2 = 0;
  for (let i = 0; i < n; i++) {
    const dx = Y[2 * i] - prevY[2 * i];
    const dy = Y[2 * i + 1] - prevY[2 * i + 1];
    moved += Math.sqrt(dx * dx + dy * dy);
    const rx = Y[2 * i] - mx;
    const ry = Y[2 * i + 1] - my;
    radius2 += rx * rx + ry * ry;
  }
  const rms = Math.sqrt(radius2 / n);
  return rms > 0 ? moved / n / rms : 0;
}

/**
 * Exact k nearest neighbours in 2-D by a sweep: points sorted by x, each point scans outwards
 * until the x gap alone exceeds its current k-th distance.
 */
export function knn2d(Y: Float64Array, n: number, k: number): Neighbors {
  if (k >= n) throw new RangeError(`k = ${k} nearest neighbours need more than ${n} points`);
  const byX = new Int32Array(n);
  for (let i = 0; i < n; i++) byX[i] = i;
  byX.sort((a, b) => Y[2 * a] - Y[2 * b] || a - b);
  const heapDist = new Float64Array(n * k).fill(Infinity);
  const heapIndex = new Int32Array(n * k).fill(-1);
  for (let p = 0; p < n; p++) {
    const i = byX[p];
    const base = i * k;
    const xi = Y[2 * i];
    const yi = Y[2 * i + 1];
    for (let direction = -1; direction <= 1; direction += 2) {
      for (let q = p + direction; q >= 0 && q < n; q += direction) {
        const j = byX[q];
        const dx = Y[2 * j] - xi;
        if (dx * dx > heapDist[base]) break;
        const dy = Y[2 * j + 1] - yi;
        const d2 = dx * dx + dy * dy;
        if (d2 < heapDist[base]) heapReplaceTop(heapDist, heapIndex, base, k, d2, j);
      }
    }
  }
  sortHeaps(heapDist, heapIndex, n, k);
  return { indices: heapIndex, distances: heapDist, k };
}
