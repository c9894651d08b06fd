/**
 * A t-SNE embedding that keeps its optimiser state, in openTSNE's shape: affinities are computed
 * once, and `optimize()` is called once per phase (early exaggeration, then the normal phase), or
 * again later to continue from where it stopped: a warm start is just "optimise again from here".
 *
 * Optimiser: gradient descent with momentum and per-coordinate gains (Jacobs 1988, as in bhtsne
 * and sklearn): a gain grows by 0.2 while the gradient keeps pushing the same way as the last
 * update and shrinks ×0.8 when it flips, never below 0.01.
 */
import type { Affinities } from './affinities.ts';
import {
  barnesHutGradient,
  callerAttractionShare,
  cheaperRepulsion,
  entropyTerm,
  fftGradient,
  GradientWorkspace,
  type GradientResult,
  type RepulsionMethod,
} from './gradient.ts';
import { layoutExtent } from './interpolation.ts';
import { centre } from './centroid.ts';
import type { TsneThreads } from './threads.ts';

export const EARLY_EXAGGERATION = 12;
const MIN_GAIN = 0.01;

/**
 * The "auto" learning rate of `optimize`, per phase: openTSNE's max(N / α, 200) for exaggeration
 * α, rewritten for our gradient, which carries sklearn's factor 4: max(N / (4α), 50). In the early
 * phase (α = 12) this is sklearn's "auto" (N / 12 / 4); in the normal phase (α = 1) it is 12 times
 * larger (the step grows with N because the gradient of each point shrinks as 1/N). Our schedules
 * run their normal phase 4 times faster still, with more momentum (`normalPhaseLearningRate` in
 * ./schedule.ts, where that was measured); this stays the library's default for a caller's own loop.
 */
export function autoLearningRate(n: number, exaggeration: number): number {
  return Math.max(n / (4 * Math.max(exaggeration, 1)), 50);
}

/** Resolves a learning rate option: a number is kept, 'auto' (or nothing) is `autoLearningRate`. */
export function resolveLearningRate(value: number | 'auto' | undefined, n: number, exaggeration: number): number {
  return value === undefined || value === 'auto' ? autoLearningRate(n, exaggeration) : value;
}

export interface OptimizeOptions {
  iterations: number;
  /** Multiplies P in the attractive term; 12 in the early phase, 1 afterwards. Default 1. */
  exaggeration?: number;
  /** Default 0.8 (0.5 is the usual early-phase value). */
  momentum?: number;
  /** A number, or 'auto' (default): `autoLearningRate(n, exaggeration)`. */
  learningRate?: number | 'auto';
}

export interface OptimizeResult {
  /** Iterations run by this call. */
  iterations: number;
  /** KL(P‖Q) at the positions of the last iteration's gradient (NaN when no iteration ran). */
  kl: number;
}

export interface EmbeddingOptions {
  /** Barnes-Hut accuracy; 0.5 as in sklearn and openTSNE. */
  theta?: number;
  /**
   * Positions to stay near (dynamic t-SNE's temporal term, Rauber et al. 2016): adds
   * (anchorStrength / N) · Σ_i |y_i − a_i|² · 2 to the objective, so the gradient gains
   * 4 (λ / N)(y_i − a_i), on the same scale as the attractive forces. Off by default.
   */
  anchor?: Float64Array;
  anchorStrength?: number;
  /** Helper threads to split the gradient with (the caller owns them and closes them). */
  threads?: TsneThreads;
  /**
   * How the repulsive forces are approximated: 'barnes-hut', 'fft' (interpolation,
   * ./interpolation.ts), or 'auto' (default): per iteration, whichever `cheaperRepulsion` expects
   * to cost less. The interpolation's cost follows the layout's extent, so 'auto' takes it while
   * a large layout is still compact (early exaggeration, the start of a warm frame) and Barnes-Hut
   * once it has spread out (a converged 10,000-point layout needs a 2,048² grid, 35–80× the
   * cost of Barnes-Hut).
   */
  repulsion?: RepulsionMethod | 'auto';
}

export class TSNEEmbedding {
  readonly n: number;
  /** Interleaved 2-D positions, updated in place. */
  readonly positions: Float64Array;
  readonly affinities: Affinities;
  readonly theta: number;
  /** Per-coordinate gains and the last update (momentum term): the optimiser's memory. */
  readonly gains: Float64Array;
  readonly update: Float64Array;
  /** Iterations run so far over all `optimize` calls. */
  iterationsDone = 0;
  private readonly gradient: Float64Array;
  private readonly workspace: GradientWorkspace;
  private readonly pLogP: number;
  private readonly anchor: Float64Array | undefined;
  private readonly threads: TsneThreads | undefined;
  readonly repulsion: RepulsionMethod | 'auto';
  /** Gradient evaluations so far by each repulsion method (what 'auto' actually chose). */
  readonly repulsionCounts: Record<RepulsionMethod, number> = { 'barnes-hut': 0, fft: 0 };
  /** λ of the pull towards `anchor`; may be changed between `optimize` calls (annealing). */
  anchorStrength: number;

  constructor(initial: Float64Array, affinities: Affinities, options: EmbeddingOptions = {}) {
    if (initial.length !== 2 * affinities.n) {
      throw new RangeError(
        `initial positions are for ${initial.length / 2} points but the affinities are for ${affinities.n}`,
      );
    }
    this.n = affinities.n;
    this.positions = Float64Array.from(initial);
    this.affinities = affinities;
    this.theta = options.theta ?? 0.5;
    this.gains = new Float64Array(2 * this.n).fill(1);
    this.update = new Float64Array(2 * this.n);
    this.gradient = new Float64Array(2 * this.n);
    this.workspace = new GradientWorkspace(this.n);
    this.pLogP = entropyTerm(affinities);
    if (options.anchor !== undefined && options.anchor.length !== initial.length) {
      throw new RangeError(
        `anchor positions are for ${options.anchor.length / 2} points but the embedding has ${this.n}`,
      );
    }
    this.anchor = options.anchor === undefined ? undefined : Float64Array.from(options.anchor);
    this.anchorStrength = options.anchorStrength ?? 0;
    this.repulsion = options.repulsion ?? 'auto';
    this.threads = options.threads;
    this.threads?.setupGradient(affinities);
  }

  /** The gradient into `grad`, on the helper threads when there are any. */
  private gradientAt(Y: Float64Array, exaggeration: number, grad: Float64Array, pLogP: number): GradientResult {
    const { affinities: P, workspace, threads, n } = this;
    const threadCount = threads?.threads ?? 1;
    // The interpolation grid the layout needs now: what 'auto' weighs, and the caller's share beside it.
    const gridSize = this.repulsion === 'barnes-hut' ? 0 : workspace.interpolation.gridSize(layoutExtent(Y, n).extent);
    const method = this.repulsion === 'auto' ? cheaperRepulsion(n, P.rowPtr[n], gridSize, threadCount) : this.repulsion;
    this.repulsionCounts[method]++;
    if (method === 'fft') {
      const callerShare = callerAttractionShare(n, P.rowPtr[n], gridSize, threadCount);
      return threads
        ? threads.fftGradient(Y, exaggeration, grad, pLogP, workspace.interpolation, callerShare)
        : fftGradient(P, Y, exaggeration, grad, workspace, pLogP);
    }
    return threads
      ? threads.gradient(Y, exaggeration, this.theta, grad, pLogP)
      : barnesHutGradient(P, Y, exaggeration, this.theta, grad, workspace, pLogP);
  }

  optimize(options: OptimizeOptions): OptimizeResult {
    const iterations = options.iterations;
    if (!Number.isInteger(iterations) || iterations < 0)
      throw new RangeError(`iterations must be an integer >= 0, got ${iterations}`);
    const exaggeration = options.exaggeration ?? 1;
    const momentum = options.momentum ?? 0.8;
    const rate = resolveLearningRate(options.learningRate, this.n, exaggeration);
    const { positions: Y, gains, update, gradient: grad } = this;
    let kl = NaN;
    for (let it = 0; it < iterations; it++) {
      const last = it === iterations - 1;
      const result = this.gradientAt(Y, exaggeration, grad, last ? this.pLogP : NaN);
      if (last) kl = result.kl;
      if (this.anchor !== undefined && this.anchorStrength > 0) {
        const a = this.anchor;
        const weight = (4 * this.anchorStrength) / this.n;
        for (let t = 0; t < Y.length; t++) grad[t] += weight * (Y[t] - a[t]);
      }
      for (let t = 0; t < Y.length; t++) {
        const g = grad[t];
        const u = update[t];
        // sklearn's rule: the gradient opposes the last step's direction of descent → speed up.
        let gain = g * u < 0 ? gains[t] + 0.2 : gains[t] * 0.8;
        if (gain < MIN_GAIN) gain = MIN_GAIN;
        gains[t] = gain;
        const step = momentum * u - rate * gain * g;
        update[t] = step;
        Y[t] += step;
      }
      // t-SNE's objective ignores translation, and a centred cloud keeps the Barnes-Hut tree tight.
      centre(Y);
      this.iterationsDone++;
    }
    return { iterations, kl };
  }

  /** KL(P‖Q) at the current positions (one gradient pass; Z is approximate). */
  klDivergence(): number {
    const scratch = new Float64Array(2 * this.n);
    return this.gradientAt(this.positions, 1, scratch, this.pLogP).kl;
  }
}
