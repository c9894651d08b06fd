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
import { EARLY_EXAGGERATION, resolveLearningRate, TSNEEmbedding } from './embedding.ts';
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
  /** Normal-phase learning rate; 'auto' is `autoLearningRate(n, 1)`. */
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
}

/**
 * The usual cold schedule from a tiny PCA layout. From sklearn and openTSNE: exaggeration 12 for
 * 250 iterations at momentum 0.5, then momentum 0.8, the initial layout scaled to std 1e-4.
 * Measured here: once KL gains less than 1 % per 50 iterations, 10-NN preservation has stopped
 * moving (shared frame 09: 0.568 at 500 iterations and at 750; synthetic 10k points: 0.470 at
 * 600, 0.471 at 750) and only KL creeps down; hence the stop at 1 % per 50 and at most 500.
 */
export const COLD_SCHEDULE: Schedule = {
  exaggeration: EARLY_EXAGGERATION,
  exaggerationIterations: 250,
  exaggerationMomentum: 0.5,
  maxIterations: 500,
  minRelativeImprovement: 1e-2,
  checkEvery: 50,
  initialStd: 1e-4,
  learningRate: 'auto',
  momentum: 0.8,
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
 * exaggeration is not needed and only adds movement. Momentum 0.8 and the learning rate are the
 * cold schedule's normal phase.
 *
 * The length of the phase comes from the optimisation itself: it stops once KL gains less than
 * 1 % over 25 iterations, at most 1,000. A fixed 100 iterations (tuned at 2,000 points) left a
 * 10,000-point frame far from converged (KL 1.90 against a cold run's 1.54, 10-NN preservation
 * 0.486 against 0.502). Measured with the stop, warm against cold on the same embeddings:
 *
 *   data                                       iterations  KL warm / cold  10-NN warm / cold
 *   shared frames 08 → 09, 2,000 points        150         1.121 / 1.095   0.563 / 0.559
 *   CIFAR-10 test set, seed ResNet after 5,120
 *   → 10,240 training images, 10,000 points     300         1.268 / 1.216   0.605 / 0.606
 *
 * (0.5 % per 25 ran 200 and 425 iterations for 0.564 and 0.607; a fixed 150 at 10,000 points
 * gave 0.596.)
 */
export const WARM_SCHEDULE: Schedule = {
  exaggeration: 1,
  exaggerationIterations: 0,
  exaggerationMomentum: 0.5,
  maxIterations: 1000,
  minRelativeImprovement: 1e-2,
  checkEvery: 25,
  initialStd: 1,
  learningRate: 'auto',
  momentum: 0.8,
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
  const learningRate = resolveLearningRate(schedule.learningRate, affinities.n, 1);
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
