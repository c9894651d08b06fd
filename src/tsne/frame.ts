/**
 * One frame of the time-lapse: the call the watcher makes per checkpoint. Builds the affinities,
 * then either runs the usual cold schedule from PCA or continues from the previous frame's
 * positions (warm start), and returns the layout normalised to zero mean and unit std per axis.
 *
 * The schedules and the measurements that chose them are in ./schedule.ts.
 */
import { UserError } from '../errors.ts';
import { normalizeFrame } from '../align/index.ts';
import { DEFAULT_PERPLEXITY, computeAffinities, type Affinities } from './affinities.ts';
import { exactKnn } from './knn.ts';
import type { NeighborSearch } from './neighbors.ts';
import { TsneThreads } from './threads.ts';
import { barnesHutGradient, entropyTerm, GradientWorkspace, type RepulsionMethod } from './gradient.ts';
import { pcaInit, randomInit, rescale } from './init.ts';
import { knnPreservationFromNeighbors, rememberNeighbors } from './quality.ts';
import { createRandom } from '../util/random.ts';
import { COLD_SCHEDULE, STABLE_WARM_SCHEDULE, WARM_SCHEDULE, runSchedule, type Schedule } from './schedule.ts';

/** Barnes-Hut accuracy (sklearn, openTSNE). */
export const DEFAULT_THETA = 0.5;

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
  /** Input-space neighbour search; 'auto' (default): exact for small N, approximate for large (./neighbors.ts). */
  neighborSearch?: NeighborSearch;
  /**
   * Threads for the gradient and the neighbour search (default 1); fewer are used
   * below `PARALLEL_FROM` points (`PARALLEL_KEPT_FROM` with kept helpers), where they cost more
   * than they save.
   */
  threads?: number;
}

export interface FrameResult {
  /** Interleaved x, y, normalised to zero mean and unit std per axis. */
  positions: Float64Array;
  /** KL(P‖Q) of the final layout. */
  kl: number;
  /** The perplexity the affinities used: the one asked for, or lower when there are too few points. */
  perplexity: number;
  /** Optimisation iterations run. */
  iterations: number;
  /** Wall-clock seconds of the whole frame (affinities included). */
  seconds: number;
  /**
   * 10-NN preservation of the frame against the input-space neighbours the affinities used (cheap:
   * they are at hand); approximate above `APPROXIMATE_KNN_FROM` points, where they hold ≈ 0.9999 of
   * the true 10 nearest on real embeddings.
   */
  knnPreservation: number;
  /** Whether the frame continued from `init`. */
  warm: boolean;
  /** Threads the frame ran on (see `FrameOptions.threads`). */
  threads: number;
  /** Gradient evaluations by each repulsion method ('auto' picks per iteration: ./embedding.ts). */
  repulsionCounts: Record<RepulsionMethod, number>;
}

/**
 * From this many points a frame starts the threads it is given. Starting a helper costs 38–42 ms
 * from the command's compiled build (0.2 s through tsx's loader), and in a fresh process both
 * threads then run cold code: a 2,000-point warm frame of `embedding-timelapse tsne` took 0.49–0.54
 * s on 2 threads against 0.48–0.50 s on one (2026-12-04).
 */
export const PARALLEL_FROM = 5000;

/**
 * From this many points a frame uses helpers that are already running (`KeptThreads`): then a
 * gradient costs only its hand-over, about 0.03 ms. Measured here, one Barnes-Hut gradient on 1
 * and 2 threads (best of 3, real layouts, with the inner loops in WebAssembly, 2026-12-04): 250
 * points 0.16 / 0.12 ms, 500 points 0.34 / 0.23 ms, 1,000 points 0.75 / 0.47 ms, 10,000 points
 * 9.0 / 5.4 ms (in plain JavaScript, before: 0.34–0.39 / 0.32–0.36 ms at 250 points, 1.4 / 0.8 ms
 * at 500).
 */
export const PARALLEL_KEPT_FROM = 500;

/**
 * The threads a frame of `n` points runs on when `requested` are asked for; `kept` when helpers
 * are already running (see `PARALLEL_KEPT_FROM`).
 */
export function resolveThreads(requested: number | undefined, n: number, kept = false): number {
  const asked = requested ?? 1;
  if (!Number.isInteger(asked) || asked < 1) throw new UserError(`t-SNE threads must be an integer >= 1, got ${asked}`);
  return n < (kept ? PARALLEL_KEPT_FROM : PARALLEL_FROM) ? 1 : asked;
}

/**
 * Helper threads kept from one frame to the next (the t-SNE worker keeps one set for all the
 * watcher's frames), so that a frame does not pay their start. A set for another thread count
 * replaces the one before.
 */
export class KeptThreads {
  private threads: TsneThreads | undefined;

  /** Helpers for `count` threads in all (the caller included), started on first use. */
  get(count: number): TsneThreads {
    if (this.threads?.threads !== count) {
      // Forgotten before the new set starts: if starting it fails, the next frame tries again.
      this.close();
      this.threads = new TsneThreads(count);
    }
    return this.threads;
  }

  close(): void {
    this.threads?.close();
    this.threads = undefined;
  }
}

/**
 * One frame. Its helper threads (`options.threads`) are started for it and ended with it, unless
 * the caller keeps a set running between frames (`kept`).
 */
export function tsneFrame(
  X: Float32Array,
  n: number,
  d: number,
  options: FrameOptions = {},
  kept?: KeptThreads,
): FrameResult {
  const started = performance.now();
  if (X.length !== n * d) throw new UserError(`t-SNE input holds ${X.length} values, expected ${n} × ${d} = ${n * d}`);
  if (options.init !== undefined && options.init.length !== 2 * n) {
    throw new UserError(
      `t-SNE warm start: the previous frame has ${options.init.length / 2} points, this frame has ${n}; pass a ` +
        `frame of the same points`,
    );
  }
  const warm = options.init !== undefined;
  const stability = warm ? (options.stability ?? 0) : 0;
  const base = !warm
    ? COLD_SCHEDULE
    : stability > 0
      ? { ...STABLE_WARM_SCHEDULE, anchorStrength: stability }
      : WARM_SCHEDULE;
  const schedule: Schedule = { ...base, ...options.schedule };
  const seed = options.seed ?? 0;
  const threadCount = resolveThreads(options.threads, n, kept !== undefined);
  if (threadCount > 1 && kept !== undefined) {
    try {
      return runFrame(X, n, d, options, schedule, seed, warm, started, kept.get(threadCount));
    } catch (error) {
      // Helpers that saw a failure stay marked failed: the next frame starts a fresh set.
      kept.close();
      throw error;
    }
  }
  const threads = threadCount > 1 ? new TsneThreads(threadCount) : undefined;
  try {
    return runFrame(X, n, d, options, schedule, seed, warm, started, threads);
  } finally {
    threads?.close();
  }
}

function runFrame(
  X: Float32Array,
  n: number,
  d: number,
  options: FrameOptions,
  schedule: Schedule,
  seed: number,
  warm: boolean,
  started: number,
  threads: TsneThreads | undefined,
): FrameResult {
  const theta = options.theta ?? DEFAULT_THETA;
  const affinities = computeAffinities(X, n, d, {
    perplexity: options.perplexity ?? DEFAULT_PERPLEXITY,
    neighborSearch: options.neighborSearch,
    seed,
    threads,
  });
  rememberNeighbors(X, affinities.neighbors);
  const noise = createRandom(seed);
  let start: Float64Array;
  if (warm) {
    start = rescale(options.init!, 1, noise);
    const scale = schedule.fitScale ? klOptimalScale(affinities, start, theta) : schedule.initialStd;
    for (let t = 0; t < start.length; t++) start[t] *= scale;
  } else {
    start = coldStart(X, n, d, seed, schedule.initialStd);
  }
  const anchor = warm && schedule.anchorStrength > 0 ? start : undefined;
  const { embedding, kl } = runSchedule(affinities, start, schedule, theta, anchor, [], threads);
  const positions = normalizeFrame(embedding.positions);
  return {
    positions,
    kl,
    perplexity: affinities.perplexity,
    iterations: embedding.iterationsDone,
    seconds: (performance.now() - started) / 1000,
    knnPreservation: frameKnnPreservation(X, n, d, affinities, positions),
    warm,
    threads: threads?.threads ?? 1,
    repulsionCounts: { ...embedding.repulsionCounts },
  };
}

/** 10-NN preservation (fewer neighbours for tiny inputs), reusing the affinities' neighbours when they suffice. */
function frameKnnPreservation(
  X: Float32Array,
  n: number,
  d: number,
  affinities: Affinities,
  positions: Float64Array,
): number {
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
 * The factor s minimising KL(P ‖ Q(s·Y)) for a layout Y with std 1, by golden-section search on
 * log s over [1, 1000]; each probe is one Barnes-Hut pass.
 */
function klOptimalScale(affinities: Affinities, Y: Float64Array, theta: number): number {
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
