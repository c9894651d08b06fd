/**
 * Bucketing for histogram summaries, in TensorBoard's own form: k buckets of
 * (left edge, right edge, count), stored as a [k, 3] float64 tensor.
 */

export interface HistogramBucket {
  left: number;
  right: number;
  count: number;
}

export interface Bucketed {
  buckets: HistogramBucket[];
  /** Values left out because they were NaN or ±Infinity. */
  dropped: number;
}

export const DEFAULT_BUCKET_COUNT = 30;

/**
 * Splits the finite values into `bucketCount` equal-width buckets between their min and max (the
 * last bucket includes the max). All values equal: one bucket [v - 0.5, v + 0.5], as TensorBoard
 * does. No finite values: no buckets. Non-finite values cannot be placed on an axis: they are
 * counted in `dropped` and left out.
 */
export function bucketize(values: ArrayLike<number>, bucketCount = DEFAULT_BUCKET_COUNT): Bucketed {
  if (!Number.isInteger(bucketCount) || bucketCount < 1) {
    throw new RangeError(`histogram bucket count must be a positive integer, got ${bucketCount}`);
  }
  let min = Infinity;
  let max = -Infinity;
  let dropped = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      dropped++;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const finiteCount = values.length - dropped;
  if (finiteCount === 0) return { buckets: [], dropped };
  if (min === max) return { buckets: [{ left: min - 0.5, right: max + 0.5, count: finiteCount }], dropped };

  const width = (max - min) / bucketCount;
  const counts = new Float64Array(bucketCount);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    counts[Math.min(bucketCount - 1, Math.floor((v - min) / width))]! += 1;
  }
  const buckets: HistogramBucket[] = [];
  for (let b = 0; b < bucketCount; b++) {
    const left = min + b * width;
    const right = b === bucketCount - 1 ? max : min + (b + 1) * width;
    buckets.push({ left, right, count: counts[b]! });
  }
  return { buckets, dropped };
}
