/**
 * t-SNE on several cores: helper threads that share memory with the calling thread
 * (SharedArrayBuffer) and split the gradient (attractive rows, Barnes-Hut groups; with the
 * interpolated repulsion, the helpers take the attraction while the caller interpolates), the
 * neighbour searches (the forest's trees, the query rows) and the calibration of P's rows with it.
 * The caller stays synchronous: it rings a doorbell (`Atomics.notify`), does its own part, then
 * waits (`awaitChange`) until every helper has rung back. The Barnes-Hut gradient, the forest's
 * trees and the searches' rows are cut into items that the threads claim as they go
 * (./work-items.ts); the interpolated gradient's attraction is split by the thread count. Partial
 * sums are added in a fixed order, so a run is deterministic for a given seed and thread count.
 *
 * The helpers start once per frame (each costs about 40 ms from the command's compiled build,
 * 0.1–0.3 s through tsx's loader: a fresh V8 isolate either way), or once for all frames of the
 * t-SNE worker (`KeptThreads` in ./frame.ts), and are told to exit by `close()`.
 */
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { calibrateRowRange, type Affinities, type ConditionalAffinities } from './affinities.ts';
import { attractRows, combine, type GradientResult } from './gradient.ts';
import {
  claimItems,
  computeClaimedItems,
  ThreadGradient,
  gradientItemSplits,
  splitRows,
  sumItems,
  type SharedGradient,
} from './work-items.ts';
import { checkKnnInput, searchAllRows, type Neighbors } from './knn.ts';
import type { FftRepulsion } from './interpolation.ts';
import { RowKernel } from './row-kernel.ts';
import {
  buildTrees,
  DEFAULT_TREES,
  forestBuffers,
  forestOf,
  searchForestRows,
  type Forest,
  type ForestBuffers,
  type ForestOptions,
} from './rpforest.ts';
import { startTypeScriptWorker } from '../util/typescript-worker.ts';

/** Slots of the shared control array. */
export const CONTROL = { generation: 0, done: 1, ready: 2, failed: 3 } as const;

export type ThreadCommand =
  | {
      kind: 'gradient-setup';
      gradient: SharedGradient;
      /** Each thread's log term of the attraction beside the interpolation (`fftGradient`). */
      threadPartial: Float64Array;
    }
  | {
      /** Claim items of the Barnes-Hut gradient until none is left (./work-items.ts). */
      kind: 'gradient';
      exaggeration: number;
      theta: number;
      withLogTerm: boolean;
    }
  | {
      /** Only the attraction, rows [0] to [1] of P (the calling thread interpolates the repulsion meanwhile). */
      kind: 'attractive';
      exaggeration: number;
      withLogTerm: boolean;
      rows: [number, number];
    }
  | {
      /**
       * Search blocks of `SEARCH_ROWS_PER_ITEM` rows claimed from `cursor`: each row's candidates
       * from the forest, or every row when there is none (the exact search).
       */
      kind: 'knn';
      /** The rows, n × d (each thread copies them into its own `RowKernel`). */
      data: Float32Array;
      n: number;
      d: number;
      k: number;
      forest: Forest | undefined;
      indices: Int32Array;
      distances: Float64Array;
      cursor: Int32Array;
    }
  | {
      /** Calibrate blocks of `SEARCH_ROWS_PER_ITEM` rows of P claimed from `cursor` (`calibrateRowRange`). */
      kind: 'calibrate';
      distances: Float64Array;
      stride: number;
      n: number;
      k: number;
      perplexity: number;
      out: ConditionalAffinities;
      cursor: Int32Array;
    }
  | {
      /** Build the forest's trees claimed from `cursor` into the shared buffers. */
      kind: 'forest';
      data: Float32Array;
      n: number;
      d: number;
      options: ForestOptions;
      buffers: ForestBuffers;
      cursor: Int32Array;
    }
  | { kind: 'exit' };

const ENTRY_URL = new URL('./threads-worker-entry.ts', import.meta.url).href;
/** How long to wait for the helpers to start before giving up (a broken install, not a slow machine). */
const START_TIMEOUT_MS = 60_000;

const shared = <T extends Float64Array | Float32Array | Int32Array>(
  make: new (buffer: SharedArrayBuffer) => T,
  bytes: number,
): T => new make(new SharedArrayBuffer(bytes));

export class TsneThreads {
  readonly threads: number;
  private readonly control = shared(Int32Array, 4 * 4);
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private gradientState: { P: Affinities; thread: ThreadGradient; threadPartial: Float64Array } | undefined;

  /** Starts `threads − 1` helpers (the caller is thread 0). */
  constructor(threads: number) {
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`threads must be an integer >= 1, got ${threads}`);
    this.threads = threads;
    for (let index = 1; index < threads; index++) {
      const { port1, port2 } = new MessageChannel();
      this.workers.push(
        startTypeScriptWorker(ENTRY_URL, {
          workerData: { port: port2, control: this.control, index },
          transferList: [port2],
        }),
      );
      this.ports.push(port1);
    }
    waitFor(this.control, CONTROL.ready, threads - 1, START_TIMEOUT_MS, 't-SNE helper threads did not start');
  }

  /** Sends one command per helper, runs `own` here, waits for all. */
  /** `dispatch` with the same command for every helper (each claims its work as it goes). */
  private dispatchToAll(command: ThreadCommand, own: () => void): void {
    this.dispatch(
      this.workers.map(() => command),
      own,
    );
  }

  private dispatch(commands: ThreadCommand[], own: () => void): void {
    Atomics.store(this.control, CONTROL.done, 0);
    commands.forEach((command, w) => this.ports[w].postMessage(command));
    Atomics.add(this.control, CONTROL.generation, 1);
    Atomics.notify(this.control, CONTROL.generation);
    own();
    waitFor(this.control, CONTROL.done, this.workers.length, Infinity, '');
    if (Atomics.load(this.control, CONTROL.failed) !== 0) throw new Error('a t-SNE helper thread failed (see stderr)');
  }

  /** Hands the helpers P and the shared buffers of one embedding's gradient. */
  setupGradient(P: Affinities): void {
    const n = P.n;
    const [treeSplit, rowSplit] = gradientItemSplits(P);
    const { rowPtr, colIndex, values } = P;
    const gradient: SharedGradient = {
      n,
      rowPtr,
      colIndex,
      values,
      positions: shared(Float64Array, 16 * n),
      attractive: shared(Float64Array, 16 * n),
      repulsive: shared(Float64Array, 16 * n),
      treeSplit,
      rowSplit,
      partial: shared(Float64Array, 8 * (treeSplit.length + rowSplit.length - 2)),
      cursor: shared(Int32Array, 4),
    };
    const threadPartial = shared(Float64Array, 8 * this.threads);
    this.gradientState = { P, thread: new ThreadGradient(gradient), threadPartial };
    const setup: ThreadCommand = { kind: 'gradient-setup', gradient, threadPartial };
    this.dispatchToAll(setup, () => undefined);
  }

  /** The Barnes-Hut gradient of `barnesHutGradient`, computed by all threads (./work-items.ts). */
  gradient(Y: Float64Array, exaggeration: number, theta: number, grad: Float64Array, pLogP: number): GradientResult {
    const state = this.gradientState;
    if (state === undefined) throw new Error('TsneThreads.gradient before setupGradient');
    const g = state.thread.shared;
    const withLogTerm = !Number.isNaN(pLogP);
    g.positions.set(Y);
    Atomics.store(g.cursor, 0, 0);
    const command: ThreadCommand = { kind: 'gradient', exaggeration, theta, withLogTerm };
    this.dispatchToAll(command, () => computeClaimedItems(state.thread, exaggeration, theta, withLogTerm));
    const { z, logTerm } = sumItems(g);
    combine(g.attractive, g.repulsive, z, grad);
    return { kl: pLogP - logTerm + Math.log(z), z };
  }

  /**
   * The gradient of `fftGradient`: this thread computes the repulsion by interpolation (one grid,
   * not split) and the first `callerShare` of the attraction's non-zeros; the helpers split the
   * rest. The log terms are added in thread order.
   */
  fftGradient(
    Y: Float64Array,
    exaggeration: number,
    grad: Float64Array,
    pLogP: number,
    interpolation: FftRepulsion,
    callerShare = 0,
  ): GradientResult {
    const state = this.gradientState;
    if (state === undefined) throw new Error('TsneThreads.fftGradient before setupGradient');
    const { P, threadPartial, thread } = state;
    const { positions, attractive, repulsive } = thread.shared;
    const withLogTerm = !Number.isNaN(pLogP);
    positions.set(Y);
    const split = splitRows(P, this.threads, callerShare);
    const commands = this.workers.map((_, w): ThreadCommand => ({
      kind: 'attractive',
      exaggeration,
      withLogTerm,
      rows: [split[w + 1], split[w + 2]],
    }));
    let z = 0;
    let logTerm = 0;
    this.dispatch(commands, () => {
      thread.attraction.setPositions(positions);
      logTerm = attractRows(thread.attraction, P, positions, exaggeration, attractive, withLogTerm, 0, split[1]);
      z = interpolation.repulsion(positions, P.n, repulsive);
    });
    for (let w = 1; w < this.threads; w++) logTerm += threadPartial[w];
    combine(attractive, repulsive, z, grad);
    return { kl: pLogP - logTerm + Math.log(z), z };
  }

  /** `buildForest` with its trees claimed by the threads (each tree has its own seed: the same forest). */
  private buildForest(data: Float32Array, n: number, d: number, options: ForestOptions): Forest {
    const buffers = forestBuffers(options.trees ?? DEFAULT_TREES, n, (length) => shared(Int32Array, 4 * length));
    const command: ThreadCommand = { kind: 'forest', data, n, d, options, buffers, cursor: shared(Int32Array, 4) };
    this.dispatchToAll(command, () => buildClaimedTrees(command));
    return forestOf(buffers, n);
  }

  /** `approximateKnn` with its trees and blocks of rows claimed by the threads (the same answer for any count). */
  approximateKnn(X: ArrayLike<number>, n: number, d: number, k: number, options: ForestOptions = {}): Neighbors {
    checkKnnInput(X, n, d, k);
    const data = sharedRows(X, n, d);
    return this.searchRows(data, n, d, k, this.buildForest(data, n, d, options));
  }

  /** `exactKnn` with blocks of rows claimed by the threads (the same answer for any thread count). */
  exactKnn(X: ArrayLike<number>, n: number, d: number, k: number): Neighbors {
    checkKnnInput(X, n, d, k);
    return this.searchRows(sharedRows(X, n, d), n, d, k, undefined);
  }

  private searchRows(data: Float32Array, n: number, d: number, k: number, forest: Forest | undefined): Neighbors {
    const indices = shared(Int32Array, 4 * n * k);
    const distances = shared(Float64Array, 8 * n * k);
    const command: ThreadCommand = {
      kind: 'knn',
      ...{ data, n, d, k, forest, indices, distances },
      cursor: shared(Int32Array, 4),
    };
    this.dispatchToAll(command, () => searchClaimedRows(command));
    // Left in shared memory: `calibrateRows` reads the distances there without a copy.
    return { indices, distances, k };
  }

  /** `calibrateRows` with blocks of rows claimed by the threads (the same answer for any thread count). */
  calibrateRows(neighbors: Neighbors, n: number, k: number, perplexity: number): ConditionalAffinities {
    const distances = inSharedMemory(neighbors.distances);
    const out = {
      values: shared(Float64Array, 8 * n * k),
      beta: shared(Float64Array, 8 * n),
      entropy: shared(Float64Array, 8 * n),
    };
    const command: ThreadCommand = {
      kind: 'calibrate',
      ...{ distances, stride: neighbors.k, n, k, perplexity, out },
      cursor: shared(Int32Array, 4),
    };
    this.dispatchToAll(command, () => calibrateClaimedRows(command));
    return out;
  }

  /** Tells the helpers to exit; the threads end on their own. */
  close(): void {
    for (const port of this.ports) port.postMessage({ kind: 'exit' } satisfies ThreadCommand);
    Atomics.add(this.control, CONTROL.generation, 1);
    Atomics.notify(this.control, CONTROL.generation);
    for (const worker of this.workers) worker.unref();
  }
}

/**
 * How long a waiting thread checks its slot in a loop before it sleeps on it (`Atomics.wait`):
 * a frame hands over its next gradient microseconds after the last one ended, and a thread woken
 * from sleep starts its part late. One Barnes-Hut gradient of 10,000 points on 2 threads with
 * claimed items (./work-items.ts), medians of three runs taken in turn while this machine was at
 * its slower speed: 25.1 ms sleeping at once, 22.3 ms checking for 1 ms first (no difference at
 * its faster speed).
 */
export const SPIN_MS = 1;

/** Returns once control[slot] differs from `value` or `timeoutMs` passed: checks for `SPIN_MS`, then sleeps. */
export function awaitChange(control: Int32Array, slot: number, value: number, timeoutMs = Infinity): void {
  const spinUntil = performance.now() + Math.min(SPIN_MS, timeoutMs);
  while (Atomics.load(control, slot) === value) {
    if (performance.now() >= spinUntil) {
      Atomics.wait(control, slot, value, Math.max(0, timeoutMs - SPIN_MS));
      return;
    }
  }
}

/** Blocks until control[slot] reaches `target`. */
function waitFor(control: Int32Array, slot: number, target: number, timeoutMs: number, message: string): void {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = Atomics.load(control, slot);
    if (value >= target) return;
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`${message} within ${timeoutMs / 1000} s`);
    awaitChange(control, slot, value, Math.min(left, 1000));
  }
}

/** Rows per item of the threaded neighbour searches and calibration (as `POINTS_PER_ITEM` of the gradient's items). */
const SEARCH_ROWS_PER_ITEM = 64;

/** Runs `work(from, to)` for each block of `SEARCH_ROWS_PER_ITEM` of the n rows claimed from `cursor`. */
function claimRowBlocks(cursor: Int32Array, n: number, work: (from: number, to: number) => void): void {
  claimItems(cursor, Math.ceil(n / SEARCH_ROWS_PER_ITEM), (item) => {
    const from = item * SEARCH_ROWS_PER_ITEM;
    work(from, Math.min(n, from + SEARCH_ROWS_PER_ITEM));
  });
}

/** One thread's part of `calibrateRows`: the blocks of rows it claims. */
export function calibrateClaimedRows(command: Extract<ThreadCommand, { kind: 'calibrate' }>): void {
  const { distances, stride, n, k, perplexity, out, cursor } = command;
  claimRowBlocks(cursor, n, (from, to) => calibrateRowRange(distances, stride, k, perplexity, from, to, out));
}

/** One thread's part of `buildForest`: the trees it claims. */
export function buildClaimedTrees(command: Extract<ThreadCommand, { kind: 'forest' }>): void {
  const { data, n, d, options, buffers, cursor } = command;
  const rows = new RowKernel(data, n, d);
  claimItems(cursor, options.trees ?? DEFAULT_TREES, (tree) => buildTrees(rows, options, buffers, tree, tree + 1));
}

/** One thread's part of `approximateKnn` or `exactKnn`: the blocks of rows it claims. */
export function searchClaimedRows(command: Extract<ThreadCommand, { kind: 'knn' }>): void {
  const { data, n, d, k, forest, indices, distances, cursor } = command;
  const rows = new RowKernel(data, n, d);
  const seen = new Int32Array(n);
  claimRowBlocks(cursor, n, (from, to) => {
    if (forest === undefined) searchAllRows(rows, k, from, to, indices, distances);
    else searchForestRows(rows, k, forest, from, to, indices, distances, seen);
  });
}

/** The rows of a neighbour search in memory every thread sees (each copies them into its own `RowKernel`). */
/** `values` itself when the threads can already read it (as `searchRows` leaves its results), else a shared copy. */
function inSharedMemory(values: Float64Array): Float64Array {
  if (values.buffer instanceof SharedArrayBuffer) return values;
  const copy = shared(Float64Array, values.byteLength);
  copy.set(values);
  return copy;
}

function sharedRows(X: ArrayLike<number>, n: number, d: number): Float32Array {
  const data = shared(Float32Array, 4 * n * d);
  for (let t = 0; t < n * d; t++) data[t] = X[t];
  return data;
}
