/**
 * The t-SNE gradient, in sklearn's convention (with the factor 4):
 *   ∂KL/∂y_i = 4 [ α Σ_j p_ij w_ij (y_i − y_j) − (1/Z) Σ_j w_ij² (y_i − y_j) ],
 * w_ij = 1 / (1 + |y_i − y_j|²), Z = Σ_{k≠l} w_kl, α the exaggeration.
 * The attractive half runs over the sparse P; the repulsive half comes from the quadtree
 * (Barnes-Hut), from FFT-accelerated interpolation (./interpolation.ts), or, as a test oracle
 * only, from all pairs. `cheaperRepulsion` picks between the first two per iteration.
 */
import type { Affinities } from './affinities.ts';
import { QuadTree } from './quadtree.ts';
import { FftRepulsion } from './interpolation.ts';
import { AttractionKernel } from './force-kernel.ts';

/**
 * Writes α Σ_j p_ij w_ij (y_i − y_j) of rows [from, to) into `out` (interleaved). Returns
 * Σ_ij p_ij log w_ij over those rows when `withLogTerm`, which the KL divergence needs (and costs
 * a logarithm per entry), else 0.
 */
export function attractiveForces(
  P: Pick<Affinities, 'n' | 'rowPtr' | 'colIndex' | 'values'>,
  Y: Float64Array,
  exaggeration: number,
  out: Float64Array,
  withLogTerm: boolean,
  from = 0,
  to = P.n,
): number {
  const { rowPtr, colIndex, values } = P;
  let logTerm = 0;
  for (let i = from; i < to; i++) {
    const xi = Y[2 * i];
    const yi = Y[2 * i + 1];
    let fx = 0;
    let fy = 0;
    for (let e = rowPtr[i], eEnd = rowPtr[i + 1]; e < eEnd; e++) {
      const j = colIndex[e];
      const dx = xi - Y[2 * j];
      const dy = yi - Y[2 * j + 1];
      const w = 1 / (1 + dx * dx + dy * dy);
      const f = values[e] * w;
      fx += f * dx;
      fy += f * dy;
      if (withLogTerm) logTerm += values[e] * Math.log(w);
    }
    out[2 * i] = exaggeration * fx;
    out[2 * i + 1] = exaggeration * fy;
  }
  return logTerm;
}

/**
 * `attractiveForces` of rows [from, to) through `kernel` (./force-kernel.ts; its positions set to
 * Y beforehand), or in JavaScript when the log term is asked for: that takes a logarithm per
 * entry, which WebAssembly lacks (it is asked for only on the iterations that report KL).
 */
export function attractRows(
  kernel: AttractionKernel,
  P: Pick<Affinities, 'n' | 'rowPtr' | 'colIndex' | 'values'>,
  Y: Float64Array,
  exaggeration: number,
  out: Float64Array,
  withLogTerm: boolean,
  from: number,
  to: number,
): number {
  if (withLogTerm) return attractiveForces(P, Y, exaggeration, out, true, from, to);
  kernel.forces(exaggeration, out, from, to);
  return 0;
}

/** Σ p log p, the constant part of KL(P‖Q). */
export function entropyTerm(P: Affinities): number {
  let s = 0;
  for (const p of P.values) if (p > 0) s += p * Math.log(p);
  return s;
}

export interface GradientResult {
  /** KL(P‖Q) of the un-exaggerated P at the positions the gradient was taken at (NaN unless asked). */
  kl: number;
  z: number;
}

export type RepulsionMethod = 'barnes-hut' | 'fft';

/**
 * Cost model of one gradient evaluation, in milliseconds on the 2-core development machine (only
 * the ratios matter), fitted to best-of-4 timings on real layouts of 2,000 and 10,000 points,
 * early-phase and converged (`npm run bench:tsne -- --repulsion`, 2026-12-04, with the inner loops
 * in WebAssembly: ./force-kernel.ts):
 *   attraction ≈ 2.3e-6 per non-zero of P (10,000 points, 1.08 M non-zeros: 2.5 ms);
 *   Barnes-Hut ≈ 4.9e-5 · N log₂ N (2,000 points: 1.3–1.5 ms; 10,000: 7.8–7.9 ms, scaled by 0.82
 *   for the float32 sum and its larger groups: 6.3–6.6 → 5.2–5.8 ms, measured in turn);
 *   interpolation ≈ 2.8e-5 · S² log₂ S + 1.6e-4 · N for an S × S grid (S = 256: 15.2 ms at 2,000
 *   points, 16.5 at 10,000; S = 2,048: 1.3 s).
 * The grid follows the layout's extent, not N: 256² while the layout is compact (early
 * exaggeration, the start of a warm frame), 2,048² for a converged 10,000-point layout. So
 * Barnes-Hut is the cheaper at every size measured here; the model leaves the interpolation to
 * larger layouts while they are compact (on a 256² grid it wins from about 27,000 points on one
 * thread, 44,000 on two; 20,000 and 35,000 with the float64 sum). Before Barnes-Hut's loops
 * moved to WebAssembly (the FFT's did not), it won the early phase from 10,000 points.
 */
const ATTRACTION_MS_PER_NONZERO = 2.3e-6;
const BARNES_HUT_MS_PER_N_LOG_N = 4.9e-5;
const FFT_MS_PER_GRID_CELL_LOG = 2.8e-5;
const FFT_MS_PER_POINT = 1.6e-4;

/** The modelled milliseconds of the attraction and of each repulsion method. */
function modelledCosts(n: number, nonZeros: number, gridSize: number) {
  return {
    attraction: ATTRACTION_MS_PER_NONZERO * nonZeros,
    barnesHut: BARNES_HUT_MS_PER_N_LOG_N * n * Math.log2(Math.max(n, 2)),
    interpolation: FFT_MS_PER_GRID_CELL_LOG * gridSize * gridSize * Math.log2(gridSize) + FFT_MS_PER_POINT * n,
  };
}

/**
 * The share of the attraction the calling thread takes beside the interpolation (which it runs
 * alone), so that it and each of the `threads − 1` helpers are done at about the same time.
 */
export function callerAttractionShare(n: number, nonZeros: number, gridSize: number, threads: number): number {
  if (threads <= 1) return 1;
  const { attraction, interpolation } = modelledCosts(n, nonZeros, gridSize);
  const share = (attraction - interpolation * (threads - 1)) / (attraction * threads);
  return Math.min(1 / threads, Math.max(0, share));
}

/**
 * The repulsion that makes the gradient cheaper for `n` points and `nonZeros` entries of P when
 * the interpolation needs a `gridSize`² grid. With Barnes-Hut every thread takes a share of both
 * halves; the interpolation runs on the calling thread while the helpers do (most of) the attraction.
 */
export function cheaperRepulsion(n: number, nonZeros: number, gridSize: number, threads = 1): RepulsionMethod {
  const { attraction, barnesHut, interpolation } = modelledCosts(n, nonZeros, gridSize);
  const withBarnesHut = (attraction + barnesHut) / threads;
  const share = callerAttractionShare(n, nonZeros, gridSize, threads);
  const withInterpolation =
    threads > 1
      ? Math.max(interpolation + share * attraction, ((1 - share) * attraction) / (threads - 1))
      : attraction + interpolation;
  return withInterpolation < withBarnesHut ? 'fft' : 'barnes-hut';
}

/** Reusable buffers for one embedding's gradient evaluations. */
export class GradientWorkspace {
  readonly tree = new QuadTree();
  readonly interpolation = new FftRepulsion();
  readonly attractive: Float64Array;
  readonly repulsive: Float64Array;
  private attraction: { P: Affinities; kernel: AttractionKernel } | undefined;
  constructor(readonly n: number) {
    this.attractive = new Float64Array(2 * n);
    this.repulsive = new Float64Array(2 * n);
  }

  /** The attraction kernel holding P (made on first use, again for another P). */
  attractionKernel(P: Affinities): AttractionKernel {
    if (this.attraction?.P !== P) this.attraction = { P, kernel: new AttractionKernel(P) };
    return this.attraction.kernel;
  }
}

/**
 * The gradient into `grad` with the repulsion that `repulse` puts into the workspace's `repulsive`
 * buffer (it returns the normalisation Z). The attraction, the sum and the KL are the same for both.
 */
function approximateGradient(
  P: Affinities,
  Y: Float64Array,
  exaggeration: number,
  grad: Float64Array,
  workspace: GradientWorkspace,
  pLogP: number,
  repulse: () => number,
): GradientResult {
  const kernel = workspace.attractionKernel(P);
  kernel.setPositions(Y);
  const logTerm = attractRows(kernel, P, Y, exaggeration, workspace.attractive, !Number.isNaN(pLogP), 0, P.n);
  const z = repulse();
  combine(workspace.attractive, workspace.repulsive, z, grad);
  return { kl: pLogP - logTerm + Math.log(z), z };
}

/** Barnes-Hut gradient into `grad`. */
export function barnesHutGradient(
  P: Affinities,
  Y: Float64Array,
  exaggeration: number,
  theta: number,
  grad: Float64Array,
  workspace: GradientWorkspace,
  pLogP = NaN,
): GradientResult {
  return approximateGradient(P, Y, exaggeration, grad, workspace, pLogP, () => {
    workspace.tree.build(Y, P.n);
    return workspace.tree.repulsion(theta, workspace.repulsive);
  });
}

/** The gradient with the repulsion from FFT-accelerated interpolation (./interpolation.ts) into `grad`. */
export function fftGradient(
  P: Affinities,
  Y: Float64Array,
  exaggeration: number,
  grad: Float64Array,
  workspace: GradientWorkspace,
  pLogP = NaN,
): GradientResult {
  return approximateGradient(P, Y, exaggeration, grad, workspace, pLogP, () =>
    workspace.interpolation.repulsion(Y, P.n, workspace.repulsive),
  );
}

/** The exact O(N²) gradient: the oracle the Barnes-Hut one is tested against. */
export function exactGradient(
  P: Affinities,
  Y: Float64Array,
  exaggeration: number,
  grad: Float64Array,
): GradientResult {
  const n = P.n;
  const attractive = new Float64Array(2 * n);
  const repulsive = new Float64Array(2 * n);
  const logTerm = attractiveForces(P, Y, exaggeration, attractive, true);
  const z = exactRepulsion(Y, n, repulsive);
  combine(attractive, repulsive, z, grad);
  return { kl: entropyTerm(P) - logTerm + Math.log(z), z };
}

/** The repulsion Σ_j w_ij² (y_i − y_j) of every i over all pairs into `out` (interleaved, zeroed first); returns Z. */
export function exactRepulsion(Y: Float64Array, n: number, out: Float64Array): number {
  out.fill(0, 0, 2 * n);
  let z = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const dx = Y[2 * i] - Y[2 * j];
      const dy = Y[2 * i + 1] - Y[2 * j + 1];
      const w = 1 / (1 + dx * dx + dy * dy);
      z += w;
      out[2 * i] += w * w * dx;
      out[2 * i + 1] += w * w * dy;
    }
  }
  return z;
}

export function combine(attractive: Float64Array, repulsive: Float64Array, z: number, grad: Float64Array): void {
  const inverseZ = 1 / z;
  for (let t = 0; t < grad.length; t++) grad[t] = 4 * (attractive[t] - repulsive[t] * inverseZ);
}
