/**
 * Optimisation schedules: how many iterations of which phase, and when to stop. `runSchedule`
 * runs the exaggerated phase, then the normal phase in chunks of `checkEvery` iterations; after
 * each chunk it calls its callbacks, in the shape of openTSNE's
 * `callback(iteration, error, embedding) -> stop?`. The KL-stall stop is one such callback, and
 * so is the (optional) decay of the pull towards the previous frame.
 *
 * Every number a schedule uses is a field of `Schedule`, and each schedule below says where its
 * numbers come from: a measurement in this repository (`npm run bench:tsne` on the shared
 * frames) or the reference implementations (sklearn, openTSNE).
 */
import type { Affinities } from './affinities.ts';
import { EARLY_EXAGGERATION, TSNEEmbedding } from './embedding.ts';
import type { TsneThreads } from './threads.ts';

export interface Schedule {
  /** Exaggeration of the early phase and its iterations (0: no early phase). */
  exaggeration: number;
  exaggerationIterations: number;
  /** Momentum of the early phase. */
  exaggerationMomentum: number;
  /** Most iterations of the normal phase (exaggeration 1). */
  maxIterations: number;
  /** Stop the normal phase once KL improves by less than this fraction over `checkEvery` iterations. */
  minRelativeImprovement: number;
  /** Iterations between the callbacks (and the KL checks) of the normal phase. */
  checkEvery: number;
  /** Standard deviation of axis 0 the initial layout is scaled to. */
  initialStd: number;
  /** Normal-phase learning rate: a number, or a rule of N (`normalPhaseLearningRate`, `warmLearningRate`). */
  learningRate: number | ((n: number) => number);
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
}

/**
 * The learning rate of the normal phase of our schedules: N (floor 50), with momentum 0.9. That is
 * 4 times `autoLearningRate(n, 1)` (openTSNE's N for its gradient without sklearn's factor 4), and
 * momentum 0.9 instead of 0.8: together they converge in about two thirds of the iterations at the
 * same or better KL and 10-NN preservation. Measured on real 128-d embeddings, warm frame from the
 * previous checkpoint, stop at 1 % per 25 iterations (10,000 and 30,000 points: CIFAR-10 through
 * the seed ResNet after 5,120 → 10,240 training images; 2,000: the shared frames chained 00 → 09,
 * means over frames 01–09), 2026-12-03:
 *
 *   N       rate, momentum      iterations  KL     10-NN
 *   2,000   N/4, 0.8             194        1.078  0.566
 *           N,   0.9             142        1.082  0.564
 *           2N,  0.9             144        1.079  0.559
 *           4N,  0.9              50        3.048  0.134  (diverges)
 *   10,000  N/4, 0.8             300        1.268  0.605
 *           N/4, 0.9             300        1.247  0.606
 *           N,   0.8             275        1.262  0.606
 *           N,   0.9             200        1.246  0.607
 *           2N,  0.9             150        1.217  0.608
 *           4N,  0.9              75        1.736  0.428  (diverges)
 *   30,000  N/4, 0.8             375        1.772  0.541
 *           N,   0.9             225        1.703  0.548
 *
 * `npm run bench:tsne -- --sizes 2000` on the shared chain, warm means over frames 01–09: 194 → 133
 * iterations, KL 1.079 → 1.086, 10-NN 0.564 → 0.559 (cold: 0.551 → 0.549): a little of the
 * neighbourhood a 2,000-point frame gained by running long is given back, still above a cold run.
 *
 * A cold frame's normal phase gains as much (10,000 points: 700 → 500 iterations in all, KL
 * 1.217 → 1.202, 10-NN 0.606 → 0.607; shared frames 05 and 09: 500 → 400, KL and 10-NN within
 * 0.004). 2N is faster still at 10,000 points but already a little worse at 2,000, and 4N
 * diverges at every N: N keeps a margin of 4 below that.
 */
export function normalPhaseLearningRate(n: number): number {
  return Math.max(n, 50);
}

/**
 * The learning rate of a warm frame: `normalPhaseLearningRate` up to 5,000 points, rising to twice
 * that at 10,000 and above. From the previous layout, a larger N takes the larger rate without
 * losing neighbours, and stops sooner; a cold frame's normal phase does not (10,000 points at 2N:
 * 550 iterations instead of 500, 10-NN 0.601 instead of 0.607). Measured on the CIFAR-10 test set
 * through the seed ResNet after 5,120 → 10,240 training images (the first N images; 2 threads,
 * stop at 1 % per 25 iterations), 2026-12-03:
 *
 *   N       rate    iterations  KL     10-NN
 *   2,000   N       150         0.733  0.684
 *           2N      150         0.727  0.682
 *   5,000   N       150         1.023  0.638
 *           1.5N    125         1.007  0.641
 *           2N      125         1.008  0.636
 *   10,000  N       200         1.246  0.607
 *           2N      150         1.217  0.608
 *   30,000  N       225         1.703  0.548
 *           2N      175         1.660  0.547
 *
 * Between 5,000 and 10,000 points the factor grows linearly (1.5 at 7,500).
 */
export function warmLearningRate(n: number): number {
  return normalPhaseLearningRate(n) * Math.min(2, Math.max(1, n / 5000));
}

const NORMAL_PHASE_MOMENTUM = 0.9;

/**
 * The usual cold schedule from a tiny PCA layout. From sklearn and openTSNE: exaggeration 12 for
 * 250 iterations at momentum 0.5, the initial layout scaled to std 1e-4; then the normal phase
 * (`normalPhaseLearningRate`).
 * Measured here: once KL gains less than 1 % per 50 iterations, 10-NN preservation has stopped
 * moving (shared frame 09: 0.568 at 500 iterations and at 750; synthetic 10k points: 0.470 at
 * 600, 0.471 at 750) and only KL creeps down. At 10,000 real points KL then gains close to 1 %
 * per 50 for 150 iterations more, so a stop at 1 % came after 450 or after 600 iterations as
 * rounding in the sums fell (the same code, its tree's points in another order). The stop is at
 * 1.5 % per 50 (and at most 500 normal iterations), 2 threads, 2026-12-04:
 *
 *   embeddings                        stop at 1 %                  stop at 1.5 %
 *   seed ResNet after 10,240 images   600 it., 5.6 s, 10-NN 0.6056  400 it., 4.0 s, 10-NN 0.6051
 *   seed ResNet after 5,120 images    450 it., 4.0 s, 10-NN 0.5814  400 it., 3.5 s, 10-NN 0.5805
 *   shared frames 05 and 09 (2,000)   400 it. both                  400 it. both, the same frames
 *
 * (10-NN here against the frame's own neighbours, approximate at 10,000 points.) With the
 * repulsion summed in float32 (./force-kernel.ts), frame 09 stops after 350 iterations (KL 1.109
 * against 1.102, 10-NN 0.559 against 0.558); over the shared frames chained 00 → 09 the cold
 * frames' means stayed (KL 1.036 and 1.042, 10-NN 0.548 both, 422 and 428 iterations).
 */
export const COLD_SCHEDULE: Schedule = {
  exaggeration: EARLY_EXAGGERATION,
  exaggerationIterations: 250,
  exaggerationMomentum: 0.5,
  maxIterations: 500,
  minRelativeImprovement: 1.5e-2,
  checkEvery: 50,
  initialStd: 1e-4,
  learningRate: normalPhaseLearningRate,
  momentum: NORMAL_PHASE_MOMENTUM,
  fitScale: false,
  anchorStrength: 0,
};

/**
 * From the previous frame. The start and the phase were chosen by measurement on the shared frames
 * chained 00 → 09 (means over frames 01–09, `npm run bench:tsne`, 2,000 points):
 *
 *   start                         iterations  KL     10-NN  displacement
 *   cold (PCA, exaggeration 12)   ≈ 690       1.03   0.546  0.648
 *   previous, std 1               100         1.14   0.564  0.485
 *   previous, std 1               300         1.06   0.568  0.500
 *   previous, KL-optimal scale    300         1.14   0.565  0.487
 *   previous, std 30              300         1.60   0.501  0.387
 *   exaggeration 4 for 50, then   300         1.03   0.561  0.525
 *
 * Starting from the previous layout shrunk to std 1 (a t-SNE layout of 2,000 points has std
 * ≈ 20–40) lets the new attractive forces regroup points before repulsion spreads them again,
 * much like a mild early exaggeration, without scrambling the global arrangement. Early
 * exaggeration is not needed and only adds movement. The momentum is the normal phase's, and so
 * is the learning rate up to 5,000 points; above, it rises to twice that (`warmLearningRate`).
 *
 * The length of the phase comes from the optimisation itself: it stops once KL gains less than
 * 1 % over 25 iterations, at most 1,000. A fixed 100 iterations (tuned at 2,000 points) left a
 * 10,000-point frame far from converged (KL 1.90 against a cold run's 1.54, 10-NN preservation
 * 0.486 against 0.502). Measured with the stop, warm against cold on the same embeddings
 * (2026-12-03, with `normalPhaseLearningRate`):
 *
 *   data                                       iterations  KL warm / cold  10-NN warm / cold
 *   shared frames 08 → 09, 2,000 points        100         1.120 / 1.096   0.558 / 0.560
 *   CIFAR-10 test set, seed ResNet after 5,120
 *   → 10,240 training images, 10,000 points     200         1.246 / 1.202   0.607 / 0.607
 *   the same at `warmLearningRate` (2N)          150         1.217 / 1.202   0.608 / 0.607
 *
 * (Before it, at N/4 and momentum 0.8: 175 and 300 iterations, 10-NN 0.564 and 0.605; 0.5 % per
 * 25 ran 200 and 425 iterations for 0.564 and 0.607; a fixed 150 at 10,000 points gave 0.596.)
 */
export const WARM_SCHEDULE: Schedule = {
  exaggeration: 1,
  exaggerationIterations: 0,
  exaggerationMomentum: 0.5,
  maxIterations: 1000,
  minRelativeImprovement: 1e-2,
  checkEvery: 25,
  initialStd: 1,
  learningRate: warmLearningRate,
  momentum: NORMAL_PHASE_MOMENTUM,
  fitScale: false,
  anchorStrength: 0,
};

/**
 * The warm schedule with a pull towards the previous frame (`tsneFrame`'s `stability`, which
 * sets `anchorStrength`). The previous frame is scaled to its KL-optimal size, so the pull holds
 * the layout where the optimiser would want it anyway. With a pull KL may rise on purpose, so
 * the stall stop stays off and all 150 iterations run, in chunks of 50 (the length is not
 * separately measured).
 */
export const STABLE_WARM_SCHEDULE: Schedule = { ...WARM_SCHEDULE, fitScale: true, maxIterations: 150, checkEvery: 50 };

/**
 * Called after each chunk of the normal phase with the iterations done in that phase, the KL of
 * the last iteration and the embedding (which it may adjust); returns true to stop.
 */
export type ScheduleCallback = (iteration: number, kl: number, embedding: TSNEEmbedding) => boolean | void;

/**
 * Stops once KL improved by less than `minRelativeImprovement` of its previous value since the
 * last call. Never while the embedding is pulled towards an anchor: KL may then rise on purpose.
 */
export function klStallStop(minRelativeImprovement: number): ScheduleCallback {
  let previous = Infinity;
  return (_iteration, kl, embedding) => {
    const stalled = previous - kl < minRelativeImprovement * previous;
    previous = kl;
    return embedding.anchorStrength === 0 && stalled;
  };
}

/** Lowers the pull towards the anchor linearly from `strength` to 0 over `iterations` (hold first, then let go). */
export function anchorDecay(strength: number, iterations: number): ScheduleCallback {
  return (iteration, _kl, embedding) => {
    embedding.anchorStrength = strength * Math.max(0, 1 - iteration / iterations);
  };
}

/**
 * Runs a schedule on a fresh embedding: the exaggerated phase, then the normal phase in chunks
 * until `maxIterations` or a callback says stop. The callbacks default to the KL-stall stop;
 * `extraCallbacks` run after them (e.g. `anchorDecay`).
 */
export function runSchedule(
  affinities: Affinities,
  start: Float64Array,
  schedule: Schedule,
  theta?: number,
  anchor?: Float64Array,
  extraCallbacks: readonly ScheduleCallback[] = [],
  threads?: TsneThreads,
): { embedding: TSNEEmbedding; kl: number } {
  const embedding = new TSNEEmbedding(start, affinities, {
    theta,
    anchor,
    anchorStrength: schedule.anchorStrength,
    threads,
  });
  if (schedule.exaggerationIterations > 0) {
    embedding.optimize({
      iterations: schedule.exaggerationIterations,
      exaggeration: schedule.exaggeration,
      momentum: schedule.exaggerationMomentum,
      learningRate: 'auto',
    });
  }
  const callbacks = [klStallStop(schedule.minRelativeImprovement), ...extraCallbacks];
  const learningRate =
    typeof schedule.learningRate === 'number' ? schedule.learningRate : schedule.learningRate(affinities.n);
  let done = 0;
  while (done < schedule.maxIterations) {
    const chunk = Math.min(schedule.checkEvery, schedule.maxIterations - done);
    const { kl } = embedding.optimize({ iterations: chunk, momentum: schedule.momentum, learningRate });
    done += chunk;
    let stop = false;
    for (const callback of callbacks) stop = callback(done, kl, embedding) === true || stop;
    if (stop) break;
  }
  return { embedding, kl: embedding.klDivergence() };
}
