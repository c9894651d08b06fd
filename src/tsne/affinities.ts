/**
 * Input-space affinities P, built once per frame (openTSNE's `PerplexityBasedNN`):
 * k = 3·perplexity neighbours (exact, or approximate for large N: ./neighbors.ts), a Gaussian
 * bandwidth per point found by binary search so that each conditional distribution p(·|i) has
 * the target perplexity, then the symmetrised
 * p_ij = (p(j|i) + p(i|j)) / 2N stored as a sparse CSR matrix.
 */
import type { Neighbors } from './knn.ts';
import { findNeighbors, type NeighborSearch } from './neighbors.ts';
import type { TsneThreads } from './threads.ts';

/** t-SNE's usual perplexity (sklearn, openTSNE). */
export const DEFAULT_PERPLEXITY = 30;

export interface Affinities {
  n: number;
  /** CSR row pointers (length n + 1), column indices and values of the symmetric P; Σ P = 1. */
  rowPtr: Int32Array;
  colIndex: Int32Array;
  values: Float64Array;
  /**
   * The perplexity the rows were calibrated to (openTSNE's `effective_perplexity_`): the one asked
   * for, or the number of neighbours when there are fewer points than that.
   */
  perplexity: number;
  /** The perplexity asked for. */
  requestedPerplexity: number;
  /** The k nearest input-space neighbours the affinities were built from (reused by quality measures). */
  neighbors: Neighbors;
}

export interface AffinityOptions {
  perplexity?: number;
  /** Neighbours per point; default min(n − 1, 3·perplexity) as in openTSNE and sklearn. */
  k?: number;
  /** Precomputed neighbours (at least k per row), e.g. from an earlier call on the same data. */
  neighbors?: Neighbors;
  /** How to find the neighbours: 'auto' (default) is exact for small N, approximate for large (./neighbors.ts). */
  neighborSearch?: NeighborSearch;
  /** Seeds the approximate neighbour search. */
  seed?: number;
  /** Helper threads for the neighbour search. */
  threads?: TsneThreads;
  /** Told once when the perplexity had to be lowered (too few points). */
  warn?: (message: string) => void;
}

export interface ConditionalAffinities {
  /** n × k conditional probabilities p(j|i), rows aligned with the neighbours. */
  values: Float64Array;
  /** Per-row precision 1 / (2σ²) in units of squared distance. */
  beta: Float64Array;
  /** Per-row Shannon entropy (nats) reached; log(perplexity) when calibrated. */
  entropy: Float64Array;
}

/** Neighbours per point: 3 × perplexity (as openTSNE and sklearn), at most every other point. */
function neighbourCount(perplexity: number, n: number, k?: number): number {
  return Math.min(n - 1, k ?? Math.ceil(3 * perplexity));
}

/**
 * The perplexity the affinities will use for `n` points: the one asked for, or lower when there
 * are too few neighbours to reach it (openTSNE's `effective_perplexity_`).
 */
export function effectivePerplexity(perplexity: number, n: number, k?: number): number {
  return Math.min(perplexity, neighbourCount(perplexity, n, k));
}

export function computeAffinities(
  X: ArrayLike<number>,
  n: number,
  d: number,
  options: AffinityOptions = {},
): Affinities {
  const perplexity = options.perplexity ?? DEFAULT_PERPLEXITY;
  if (!(perplexity > 0)) throw new RangeError(`perplexity must be positive, got ${perplexity}`);
  if (n < 2) throw new RangeError(`t-SNE needs at least 2 points, got ${n}`);
  const k = neighbourCount(perplexity, n, options.k);
  const neighbors =
    options.neighbors && options.neighbors.k >= k
      ? options.neighbors
      : findNeighbors(X, n, d, k, { method: options.neighborSearch, seed: options.seed, threads: options.threads });
  const effective = effectivePerplexity(perplexity, n, options.k);
  if (effective < perplexity) {
    options.warn?.(`perplexity ${perplexity} lowered to ${effective}: there are only ${n} points`);
  }
  const conditional = options.threads
    ? options.threads.calibrateRows(neighbors, n, k, effective)
    : calibrateRows(neighbors, n, k, effective);
  return {
    n,
    perplexity: effective,
    requestedPerplexity: perplexity,
    neighbors,
    ...symmetrize(neighbors, conditional.values, n, k),
  };
}

const ENTROPY_TOLERANCE = 1e-5;
const MAX_STEPS = 200;

/**
 * Finds, for each row, the precision β with entropy H(p(·|i)) = log(perplexity) by Newton steps
 * kept inside a bisection bracket (doubling until the target is bracketed, see `nextPrecision`).
 * Distances are shifted by the row's smallest distance before exponentiating, which leaves p
 * unchanged and avoids underflow.
 */
export function calibrateRows(neighbors: Neighbors, n: number, k: number, perplexity: number): ConditionalAffinities {
  const calibrated = { values: new Float64Array(n * k), beta: new Float64Array(n), entropy: new Float64Array(n) };
  calibrateRowRange(neighbors.distances, neighbors.k, k, perplexity, 0, n, calibrated);
  return calibrated;
}

/**
 * `calibrateRows` for rows [from, to) of `distances` (`stride` per row, its first k used), into
 * those rows of `out`: each row on its own, so threads can split them (`TsneThreads.calibrateRows`).
 */
export function calibrateRowRange(
  distances: Float64Array,
  stride: number,
  k: number,
  perplexity: number,
  from: number,
  to: number,
  out: ConditionalAffinities,
): void {
  const target = Math.log(Math.min(perplexity, k));
  const { values, beta, entropy } = out;
  for (let i = from; i < to; i++) {
    const dBase = i * stride;
    const pBase = i * k;
    const dMin = distances[dBase];
    // Scale-free start: β = 1 / (mean shifted distance) keeps the first guess near the answer.
    let meanShift = 0;
    for (let t = 0; t < k; t++) meanShift += distances[dBase + t] - dMin;
    meanShift /= k;
    let b = meanShift > 0 ? 1 / meanShift : 1;
    let lo = 0;
    let hi = Infinity;
    let h = 0;
    for (let step = 0; step < MAX_STEPS; step++) {
      let sum = 0;
      let weighted = 0;
      let weightedSquares = 0;
      for (let t = 0; t < k; t++) {
        const shifted = distances[dBase + t] - dMin;
        const p = Math.exp(-b * shifted);
        values[pBase + t] = p;
        sum += p;
        weighted += p * shifted;
        weightedSquares += p * shifted * shifted;
      }
      // H = log Σ e^{−βd} + β Σ d e^{−βd} / Σ e^{−βd}
      h = Math.log(sum) + (b * weighted) / sum;
      const gap = h - target;
      if (Math.abs(gap) < ENTROPY_TOLERANCE) break;
      if (gap > 0)
        lo = b; // too flat: sharpen
      else hi = b;
      b = nextPrecision(b, gap, weighted / sum, weightedSquares / sum, lo, hi);
    }
    let sum = 0;
    for (let t = 0; t < k; t++) sum += values[pBase + t];
    for (let t = 0; t < k; t++) values[pBase + t] /= sum;
    beta[i] = b;
    entropy[i] = h;
  }
}

/**
 * The next guess for β: a Newton step on H(β) (dH/dβ = −β·Var(d) under p), which lands within
 * the tolerance in a few steps, or, when that step leaves the bracket [lo, hi] that bisection
 * has established, the bisection step (doubling while there is no upper end yet).
 */
function nextPrecision(b: number, gap: number, mean: number, meanSquare: number, lo: number, hi: number): number {
  const slope = -b * (meanSquare - mean * mean);
  const newton = b - gap / slope;
  if (newton > lo && newton < hi) return newton;
  return hi === Infinity ? b * 2 : (lo + hi) / 2;
}

/**
 * P = (P_cond + P_condᵀ) / 2n as CSR. Row i lists its own k neighbours first (nearest first),
 * then the points that have i among their neighbours but are not among i's, by index; a pair
 * that are each other's neighbours is one entry holding both halves. One pass over the reversed
 * entries with a map from column to slot of the current row, O(nnz): sorting each row's entries by
 * column instead took 180–230 ms at 10,000 points, this takes about a third (the gradient needs
 * no order within a row).
 */
export function symmetrize(
  neighbors: Neighbors,
  conditional: Float64Array,
  n: number,
  k: number,
): { rowPtr: Int32Array; colIndex: Int32Array; values: Float64Array } {
  const reversed = transposeNeighbors(neighbors, n, k);
  const scale = 1 / (2 * n);
  const rowPtr = new Int32Array(n + 1);
  const cols = new Int32Array(2 * n * k);
  const vals = new Float64Array(2 * n * k);
  // slotOf[j]: where column j sits in the row being built (stale entries point before its start).
  const slotOf = new Int32Array(n).fill(-1);
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    const rowStart = nnz;
    for (let t = 0; t < k; t++) {
      const j = neighbors.indices[i * neighbors.k + t];
      slotOf[j] = nnz;
      cols[nnz] = j;
      vals[nnz++] = conditional[i * k + t] * scale;
    }
    for (let r = reversed.start[i]; r < reversed.start[i + 1]; r++) {
      const j = reversed.from[r];
      const v = conditional[reversed.entry[r]] * scale;
      if (slotOf[j] >= rowStart) vals[slotOf[j]] += v;
      else {
        cols[nnz] = j;
        vals[nnz++] = v;
      }
    }
    rowPtr[i + 1] = nnz;
  }
  return { rowPtr, colIndex: cols.slice(0, nnz), values: vals.slice(0, nnz) };
}

/**
 * For each point j, the points i that have j among their first k neighbours, by increasing i
 * (`from[start[j]] … from[start[j + 1] − 1]`), with the index of that entry in i's row of n × k.
 */
function transposeNeighbors(
  neighbors: Neighbors,
  n: number,
  k: number,
): { start: Int32Array; from: Int32Array; entry: Int32Array } {
  const start = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) start[neighbors.indices[i * neighbors.k + t] + 1]++;
  }
  for (let j = 0; j < n; j++) start[j + 1] += start[j];
  const next = start.slice(0, n);
  const from = new Int32Array(n * k);
  const entry = new Int32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = neighbors.indices[i * neighbors.k + t];
      from[next[j]] = i;
      entry[next[j]++] = i * k + t;
    }
  }
  return { start, from, entry };
}
