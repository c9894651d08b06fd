/**
 * The memory the trainer shares with its worker threads: one batch of images and labels, one
 * row of gradients per worker, one row of per-worker numbers (loss, correct), the rows' average
 * and the current weights. All of it lives in SharedArrayBuffers, so a step moves no tensor data
 * through messages: the trainer writes the batch, each worker reads its slice and writes its row,
 * then averages one segment of all rows; the trainer applies the average and writes the new
 * weights back.
 *
 * A gradient row is the model's trainable weights in `model.trainableWeights` order, followed
 * by its moving statistics (batch norm's moving mean and variance, `model.nonTrainableWeights`
 * order) as the worker's own step left them: both are averaged the same way.
 */
import { IMAGE_CHANNELS, IMAGE_SIZE } from '../../model/resnet.ts';
import type { Slice } from './slices.ts';

export const IMAGE_FLOATS = IMAGE_SIZE * IMAGE_SIZE * IMAGE_CHANNELS;

/** One tensor's place in a flat row. */
export interface TensorSpan {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/** Where each weight sits in a flat row: the trainable ones, then the moving statistics. */
export interface ParameterLayout {
  trainable: TensorSpan[];
  moving: TensorSpan[];
  /** Floats of the trainable part (the moving part starts here). */
  trainableSize: number;
  /** Floats of a whole row. */
  rowSize: number;
}

export function parameterLayout(
  trainable: { name: string; shape: number[] }[],
  moving: { name: string; shape: number[] }[],
): ParameterLayout {
  let offset = 0;
  const place = (list: { name: string; shape: number[] }[]) =>
    list.map(({ name, shape }) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const span = { name, shape: [...shape], offset, size };
      offset += size;
      return span;
    });
  const trainableSpans = place(trainable);
  const trainableSize = offset;
  const movingSpans = place(moving);
  return { trainable: trainableSpans, moving: movingSpans, trainableSize, rowSize: offset };
}

/** Per-worker numbers after a step: the slice's mean loss and its correctly classified images. */
export const STAT_LOSS = 0;
export const STAT_CORRECT = 1;
const STATS_PER_WORKER = 2;

/** The SharedArrayBuffers themselves: what the `init` message carries to each worker. */
export interface ExchangeBuffers {
  images: SharedArrayBuffer;
  labels: SharedArrayBuffer;
  gradients: SharedArrayBuffer;
  stats: SharedArrayBuffer;
  weights: SharedArrayBuffer;
  average: SharedArrayBuffer;
}

/** Typed views over the shared buffers; the trainer and every worker build the same ones. */
export class Exchange {
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly stats: Float64Array;
  /** The trainer's current weights (trainable, then moving statistics): what workers load. */
  readonly weights: Float32Array;
  /** The rows' weighted average, each worker writing its own segment of it. */
  readonly average: Float32Array;
  private readonly gradients: Float32Array;

  constructor(
    readonly buffers: ExchangeBuffers,
    readonly layout: ParameterLayout,
    readonly workers: number,
  ) {
    this.images = new Float32Array(buffers.images);
    this.labels = new Int32Array(buffers.labels);
    this.gradients = new Float32Array(buffers.gradients);
    this.stats = new Float64Array(buffers.stats);
    this.weights = new Float32Array(buffers.weights);
    this.average = new Float32Array(buffers.average);
    const rowSized = this.weights.length === layout.rowSize && this.average.length === layout.rowSize;
    if (this.gradients.length !== workers * layout.rowSize || !rowSized) {
      throw new Error(`shared buffers do not fit ${workers} workers of ${layout.rowSize} floats`);
    }
  }

  /** Allocates the buffers for `workers` workers and batches of up to `maxBatch` images. */
  static allocate(layout: ParameterLayout, workers: number, maxBatch: number): Exchange {
    const buffers: ExchangeBuffers = {
      images: new SharedArrayBuffer(maxBatch * IMAGE_FLOATS * 4),
      labels: new SharedArrayBuffer(maxBatch * 4),
      gradients: new SharedArrayBuffer(workers * layout.rowSize * 4),
      stats: new SharedArrayBuffer(workers * STATS_PER_WORKER * 8),
      weights: new SharedArrayBuffer(layout.rowSize * 4),
      average: new SharedArrayBuffer(layout.rowSize * 4),
    };
    return new Exchange(buffers, layout, workers);
  }

  get maxBatch(): number {
    return this.labels.length;
  }

  /** Worker `w`'s gradient row (a view: writes go to shared memory). */
  row(w: number): Float32Array {
    return this.gradients.subarray(w * this.layout.rowSize, (w + 1) * this.layout.rowSize);
  }

  /** A slice's images and labels (views). */
  sliceImages(slice: Slice): Float32Array {
    return this.images.subarray(slice.start * IMAGE_FLOATS, (slice.start + slice.count) * IMAGE_FLOATS);
  }

  sliceLabels(slice: Slice): Int32Array {
    return this.labels.subarray(slice.start, slice.start + slice.count);
  }

  /**
   * `average[from, to) = Σ_w shares_w · row_w[from, to)` over the first `shares.length` rows:
   * the workers split the row into segments and each averages one, in parallel.
   */
  averageSegment(from: number, to: number, shares: number[]): void {
    const rows = shares.map((_, w) => this.row(w).subarray(from, to));
    weightedAverage(rows, shares, this.average.subarray(from, to));
  }

  setStats(w: number, loss: number, correct: number): void {
    this.stats[w * STATS_PER_WORKER + STAT_LOSS] = loss;
    this.stats[w * STATS_PER_WORKER + STAT_CORRECT] = correct;
  }

  stat(w: number, which: typeof STAT_LOSS | typeof STAT_CORRECT): number {
    return this.stats[w * STATS_PER_WORKER + which]!;
  }
}

/**
 * `out = Σ_w weight_w · row_w` over the first `weights.length` rows, in float64 per element so
 * the result does not depend on the order of the rows beyond one rounding to float32.
 * With weight_w = (images of slice w) / (images of the batch) and each row the gradient of its
 * slice's mean loss, this is the gradient of the whole batch's mean loss.
 */
export function weightedAverage(rows: Float32Array[], weights: number[], out: Float32Array): Float32Array {
  if (rows.length !== weights.length || rows.length === 0)
    throw new RangeError(`${rows.length} rows, ${weights.length} weights`);
  const n = out.length;
  for (const row of rows) if (row.length < n) throw new RangeError(`a row of ${row.length} floats, ${n} needed`);
  if (rows.length === 1 && weights[0] === 1) {
    out.set(rows[0]!.subarray(0, n));
    return out;
  }
  const first = rows[0]!;
  const w0 = weights[0]!;
  if (rows.length === 2) {
    const second = rows[1]!;
    const w1 = weights[1]!;
    for (let i = 0; i < n; i++) out[i] = w0 * first[i]! + w1 * second[i]!;
    return out;
  }
  for (let i = 0; i < n; i++) {
    let sum = w0 * first[i]!;
    for (let r = 1; r < rows.length; r++) sum += weights[r]! * rows[r]![i]!;
    out[i] = sum;
  }
  return out;
}
