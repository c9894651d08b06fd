/**
 * The t-SNE engine: pure math on typed arrays (no files, no tfjs).
 *
 *   const P = computeAffinities(X, n, d, { perplexity: 30 });   // once per frame
 *   const embedding = new TSNEEmbedding(pcaInit(X, n, d), P);
 *   embedding.optimize({ iterations: 250, exaggeration: 12, momentum: 0.5 });
 *   embedding.optimize({ iterations: 500, momentum: 0.8 });
 *
 * or `fit()` for that schedule, or `tsneFrame()` for what the watcher does per checkpoint
 * (cold or warm-started, normalised). `./worker.ts` runs `tsneFrame` off the main thread;
 * `tsneFrame(X, n, d, { threads: 2 })` splits the neighbour search and the gradient over helper
 * threads (`./threads.ts`, from 5,000 points), where the neighbours are approximate
 * (`./neighbors.ts`).
 */
import type { Affinities } from './affinities.ts';
import { COLD_SCHEDULE, runSchedule, type Schedule } from './schedule.ts';
import { pcaInit, randomInit, rescale } from './init.ts';
import { computeAffinities } from './affinities.ts';
import type { TSNEEmbedding } from './embedding.ts';

export {
  computeAffinities,
  calibrateRows,
  symmetrize,
  DEFAULT_PERPLEXITY,
  effectivePerplexity,
  type Affinities,
  type AffinityOptions,
} from './affinities.ts';
export { exactKnn, type Neighbors } from './knn.ts';
export { approximateKnn, knnRecall, DEFAULT_TREES, DEFAULT_LEAF_SIZE, type ForestOptions } from './rpforest.ts';
export {
  findNeighbors,
  resolveNeighborSearch,
  APPROXIMATE_KNN_FROM,
  type NeighborSearch,
  type NeighborOptions,
} from './neighbors.ts';
export {
  TSNEEmbedding,
  autoLearningRate,
  resolveLearningRate,
  EARLY_EXAGGERATION,
  type OptimizeOptions,
  type OptimizeResult,
} from './embedding.ts';
export { barnesHutGradient, exactGradient, fftGradient, GradientWorkspace } from './gradient.ts';
export { FftRepulsion, type InterpolationOptions } from './interpolation.ts';
export { pcaInit, randomInit } from './init.ts';
export {
  tsneFrame,
  resolveThreads,
  PARALLEL_FROM,
  PARALLEL_KEPT_FROM,
  KeptThreads,
  DEFAULT_THETA,
  type FrameOptions,
  type FrameResult,
} from './frame.ts';
export { TsneThreads } from './threads.ts';
export {
  runSchedule,
  klStallStop,
  anchorDecay,
  COLD_SCHEDULE,
  WARM_SCHEDULE,
  normalPhaseLearningRate,
  warmLearningRate,
  STABLE_WARM_SCHEDULE,
  type Schedule,
  type ScheduleCallback,
} from './schedule.ts';
export { knnPreservation, knnPreservationFromNeighbors, neighborhoodHit, displacement, knn2d } from './quality.ts';
export { clusteredData } from './synthetic.ts';

export interface FitOptions {
  perplexity?: number;
  seed?: number;
  /** 'pca' (default), 'random', or positions to start from (scaled to std 1e-4 like the others). */
  init?: 'pca' | 'random' | Float64Array;
  theta?: number;
  schedule?: Partial<Schedule>;
  /** Reuse affinities computed earlier for the same X. */
  affinities?: Affinities;
}

/**
 * The usual t-SNE run (early exaggeration 12 for 250 iterations, then the normal phase until KL
 * stalls), returning the embedding so it can be optimised further.
 */
export function fit(
  X: ArrayLike<number>,
  n: number,
  d: number,
  options: FitOptions = {},
): { embedding: TSNEEmbedding; kl: number } {
  const affinities = options.affinities ?? computeAffinities(X, n, d, { perplexity: options.perplexity });
  const schedule = { ...COLD_SCHEDULE, ...options.schedule };
  const init = options.init ?? 'pca';
  const start =
    init === 'pca'
      ? pcaInit(X, n, d)
      : init === 'random'
        ? randomInit(n, options.seed ?? 0)
        : rescale(init, schedule.initialStd, () => 0);
  return runSchedule(affinities, start, schedule, options.theta);
}
