import assert from 'node:assert/strict';

/** A gradient split over threads equals the single-thread one to float rounding, and so does its KL. */
export function assertSameGradient(
  single: Float64Array,
  parallel: Float64Array,
  one: { kl: number },
  many: { kl: number },
): void {
  let worst = 0;
  let largest = 0;
  for (let t = 0; t < single.length; t++) {
    worst = Math.max(worst, Math.abs(single[t]! - parallel[t]!));
    largest = Math.max(largest, Math.abs(single[t]!));
  }
  assert.ok(largest > 0);
  assert.ok(worst <= 1e-12 * largest, `largest difference ${worst} of ${largest}`);
  assert.ok(Math.abs(one.kl - many.kl) <= 1e-12 * Math.abs(one.kl), `KL ${one.kl} vs ${many.kl}`);
}
