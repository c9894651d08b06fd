/**
 * One frame of the time-lapse: the call the watcher makes per checkpoint. Builds the affinities,
 * then either runs the usual cold schedule from PCA or continues from the previous frame's
 * positions (warm start), and returns the layout normalised to zero mean and unit std per axis.
 *
 * The warm schedule was chosen by measurement on the shared frames (see WARM_SCHEDULE): no
 * early exaggeration, which would scramble the layout it starts from, and a short normal phase.
 */
import { UserError } from '../errors.ts';
import { normalizeFrame } from '../align/index.ts';
import { computeAffinities, type Affinities } from './affinities.ts';
import { exactKnn } from './knn.ts';
import { EARLY_EXAGGERATION, TSNEEmbedding } from './embedding.ts';
import { barnesHutGradient, entropyTerm, GradientWorkspace } from './gradient.ts';
import { pcaInit, randomInit, rescale } from './init.ts';
import { knnPreservationFromNeighbors, rememberNeighbors } from './quality.ts';
import { createRandom } from '../util/random.ts';

export interface Schedule {
  /** Exaggeration and its iterations at the start (momentum 0.5, as in the usual early phase). */
  exaggeration: number;
  exaggerationIterations: number;
  /** Most iterations of the normal phase (exaggeration 1, momentum 0.8). */
  maxIterations: number;
  /** Stop the normal phase once KL improves by less than this fraction over `checkEvery` iterations. */
  minRelativeImprovement: number;
  checkEvery: number;
  /** Standard deviation of axis 0 the initial layout is scaled to. */
  initialStd: number;
  /** Normal-phase learning rate; 'auto' is `phaseLearningRate(n, 1)`. */
  learningRate: number | 'auto';
  /** Normal-phase momentum. */
  momentum: number;
  /**
   * Warm start only: scale the previous frame to the size that minimises KL under the new
   * affinities (instead of `initialStd`), so the optimiser does not spend its steps growing or
   * shrinking the whole layout.
   */
  fitScale: boolean;
  /** Warm start only: strength of the pull towards the (scaled) previous frame; 0 = none. */
  anchorStrength: number;
  /** Lower the pull linearly to 0 over the normal phase (hold the layout first, then let go). */
  anchorDecay: boolean;
}

/** sklearn/openTSNE's schedule: exaggeration 12 for 250 iterations from a tiny PCA layout. */
export const COLD_SCHEDULE: Schedule = {
  exaggeration: EARLY_EXAGGERATION,
  exaggerationIterations: 250,
  maxIterations: 500,
  // Measured: once KL gains less than 1 % per 50 iterations, 10-NN preservation has stopped
  // moving (shared frame 09: 0.568 at 500 iterations and at 750; synthetic 10k: 0.470 at 600,
  // 0.471 at 750); only KL creeps down.
  minRelativeImprovement: 1e-2,
  checkEvery: 50,
  initialStd: 1e-4,
  learningRate: 'auto',
  momentum: 0.8,
  fitScale: false,
  anchorStrength: 0,
  anchorDecay: false,
};

/**
 * From the previous frame, chosen by measurement on the shared frames chained 00 → 09 (means over
 * frames 01–09; see the report of issue 5 and `npm run bench:tsne`):
 *
 *   start                         iterations  KL     10-NN  displacement
 *   cold (PCA, exaggeration 12)   ≈ 690       1.03   0.546  0.648
 *   previous, std 1               100         1.14   0.564  0.485   ← this schedule
 *   previous, std 1               300         1.06   0.568  0.500
 *   previous, KL-optimal scale    300         1.14   0.565  0.487
 *   previous, std 30              300         1.60   0.501  0.387
 *   exaggeration 4 for 50, then   300         1.03   0.561  0.525
 *
 * Starting from the previous layout shrunk to std 1 (a t-SNE layout of 2,000 points has std
 * ≈ 20–40) lets the new attractive forces regroup points before repulsion spreads them again,
 * much like a mild early exaggeration, without scrambling the global arrangement. Early
 * exaggeration is not needed and only adds movement.
 */
export const WARM_SCHEDULE: Schedule = {
  exaggeration: 1,
  exaggerationIterations: 0,
  maxIterations: 100,
  minRelativeImprovement: 2e-3,
  checkEvery: 50,
  initialStd: 1,
  learningRate: 'auto',
  momentum: 0.8,
  fitScale: false,
  anchorStrength: 0,
  anchorDecay: false,
};

export interface FrameOptions {
  /** Previous frame's positions (interleaved, same points in the same order): warm start. */
  init?: Float64Array;
  seed?: number;
  perplexity?: number;
  theta?: number;
  /** Override parts of the schedule (used by the benchmark to measure the alternatives). */
  schedule?: Partial<Schedule>;
  /**
   * Warm start only: how strongly points are held near their previous positions (dynamic
   * t-SNE's temporal term; sets `anchorStrength` and scales the start to the KL-optimal size).
   * 0 (default) = best neighbourhood preservation; about 0.002 trades 0.03 of 10-NN preservation
   * for 0.05 less displacement on the shared frames.
   */
  stability?: number;
}

export interface FrameResult {
  /** Interleaved x, y, normalised to zero mean and unit std per axis. */
  positions: Float64Array;
  /** KL(P‖Q) of the final layout. */
  kl: number;
  /** Optimisation iterations run. */
  iterations: number;
  /** Wall-clock seconds of the whole frame (affinities included). */
  seconds: number;
  /** 10-NN preservation of the frame (cheap here: the input-space neighbours are at hand). */
  knnPreservation: number;
  /** Whether the frame continued from `init`. */
  warm: boolean;
}

export function tsneFrame(X: Float32Array, n: number, d: number, options: FrameOptions = {}): FrameResult {
  const started = performance.now();
  if (X.length !== n * d) throw new UserError(`t-SNE input holds ${X.length} values, expected ${n} × ${d} = ${n * d}`);
  if (options.init !== undefined && options.init.length !== 2 * n) {
    throw new UserError(`t-SNE warm start: the previous frame has ${options.init.length / 2} points, this frame has ${n}; pass a frame of the same points`);
  }
  const warm = options.init !== undefined;
  const stable = warm && (options.stability ?? 0) > 0 ? { anchorStrength: options.stability!, fitScale: true, maxIterations: 150 } : {};
  const schedule: Schedule = { ...(warm ? WARM_SCHEDULE : COLD_SCHEDULE), ...stable, ...options.schedule };
  const seed = options.seed ?? 0;
  const affinities = computeAffinities(X, n, d, { perplexity: options.perplexity ?? 30 });
  rememberNeighbors(X, affinities.neighbors);
  const noise = createRandom(seed);
  let start: Float64Array;
  if (warm) {
    start = rescale(options.init!, 1, noise);
    const scale = schedule.fitScale ? klOptimalScale(affinities, start, options.theta ?? 0.5) : schedule.initialStd;
    for (let t = 0; t < start.length; t++) start[t] *= scale;
  } else {
    start = coldStart(X, n, d, seed, schedule.initialStd);
  }
  const anchor = warm && schedule.anchorStrength > 0 ? start : undefined;
  const { embedding, kl } = runSchedule(affinities, start, schedule, options.theta, anchor);
  const positions = normalizeFrame(embedding.positions);
  return {
    positions,
    kl,
    iterations: embedding.iterationsDone,
    seconds: (performance.now() - started) / 1000,
    knnPreservation: frameKnnPreservation(X, n, d, affinities, positions),
    warm,
  };
}

/** 10-NN preservation (fewer neighbours for tiny inputs), reusing the affinities' neighbours when they suffice. */
function frameKnnPreservation(X: Float32Array, n: number, d: number, affinities: Affinities, positions: Float64Array): number {
  const k = Math.min(10, n - 1);
  const neighbors = affinities.neighbors.k >= k ? affinities.neighbors : exactKnn(X, n, d, k);
  return knnPreservationFromNeighbors(neighbors, positions, k);
}

function coldStart(X: Float32Array, n: number, d: number, seed: number, std: number): Float64Array {
  const pca = pcaInit(X, n, d);
  // An untrained network can map every input to (nearly) the same vector: PCA is then noise.
  let spread = 0;
  for (const v of pca) spread += v * v;
  if (!Number.isFinite(spread) || spread === 0) return rescale(randomInit(n, seed), std, () => 0);
  return rescale(pca, std, () => 0);
}

/**
 * Runs a schedule on a fresh embedding: the exaggerated phase, then the normal phase in chunks,
 * stopping when KL stalls. Exported for `fit()` and the benchmark.
 */
export function runSchedule(
  affinities: Affinities,
  start: Float64Array,
  schedule: Schedule,
  theta?: number,
  anchor?: Float64Array,
): { embedding: TSNEEmbedding; kl: number } {
  const embedding = new TSNEEmbedding(start, affinities, { theta, anchor, anchorStrength: schedule.anchorStrength });
  const n = affinities.n;
  if (schedule.exaggerationIterations > 0) {
    embedding.optimize({
      iterations: schedule.exaggerationIterations,
      exaggeration: schedule.exaggeration,
      momentum: 0.5,
      learningRate: phaseLearningRate(n, schedule.exaggeration),
    });
  }
  let previous = Infinity;
  let done = 0;
  while (done < schedule.maxIterations) {
    const chunk = Math.min(schedule.checkEvery, schedule.maxIterations - done);
    if (schedule.anchorDecay) embedding.anchorStrength = schedule.anchorStrength * (1 - done / schedule.maxIterations);
    const learningRate = schedule.learningRate === 'auto' ? phaseLearningRate(n, 1) : schedule.learningRate;
    const { kl } = embedding.optimize({ iterations: chunk, momentum: schedule.momentum, learningRate });
    done += chunk;
    // With a pull towards the previous frame KL may rise on purpose: run the whole phase.
    if (embedding.anchorStrength === 0 && previous - kl < schedule.minRelativeImprovement * previous) break;
    previous = kl;
  }
  return { embedding, kl: embedding.klDivergence() };
}

/**
 * The factor s minimising KL(P ‖ Q(s·Y)) for a layout Y with std 1, by golden-section search on
 * log s over [1, 1000]; each probe is one Barnes-Hut pass.
 */
export function klOptimalScale(affinities: Affinities, Y: Float64Array, theta: number): number {
  const workspace = new GradientWorkspace(affinities.n);
  const scratch = new Float64Array(Y.length);
  const scaled = new Float64Array(Y.length);
  const pLogP = entropyTerm(affinities);
  const klAt = (logScale: number): number => {
    const s = Math.exp(logScale);
    for (let t = 0; t < Y.length; t++) scaled[t] = Y[t] * s;
    return barnesHutGradient(affinities, scaled, 1, theta, scratch, workspace, pLogP).kl;
  };
  const ratio = (Math.sqrt(5) - 1) / 2;
  let lo = 0;
  let hi = Math.log(1000);
  let a = hi - ratio * (hi - lo);
  let b = lo + ratio * (hi - lo);
  let fa = klAt(a);
  let fb = klAt(b);
  for (let step = 0; step < 16; step++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - ratio * (hi - lo);
      fa = klAt(a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + ratio * (hi - lo);
      fb = klAt(b);
    }
  }
  return Math.exp((lo + hi) / 2);
}

/**
 * Learning rate per phase, openTSNE's rule max(N / α, 200) rewritten for our gradient, which
 * carries sklearn's factor 4: max(N / (4α), 50). In the early phase (α = 12) this is exactly
 * sklearn's "auto" (N / 12 / 4); afterwards it is 12 times larger, which is what lets the
 * normal phase converge in a few hundred iterations instead of 750.
 */
export function phaseLearningRate(n: number, exaggeration: number): number {
  return Math.max(n / (4 * Math.max(exaggeration, 1)), 50);
}
