/**
 * In-between frames for the GIF (`watch --gif-tween K`): each point glides from its place in the
 * previous frame to its place in the new one along an eased path, so the eye can follow it
 * instead of seeing the cloud jump. The key frames themselves are never altered.
 */

/**
 * Smooth start and stop for t in [0, 1] (smoothstep). Gentler than a cubic ease-in-out: with
 * only a few tween frames, a steeper curve would put the first and last barely off the key
 * frames and leave one big jump in the middle.
 */
export function easeInOut(t: number): number {
  return t * t * (3 - 2 * t);
}

/**
 * The positions of the `index`-th of `count` tween frames between `from` and `to` (interleaved
 * x, y): evenly spaced in time, eased in place, never equal to either end.
 */
export function tweenPositions(from: Float64Array, to: Float64Array, index: number, count: number): Float64Array {
  if (from.length !== to.length) throw new Error(`tween: frames of ${from.length / 2} and ${to.length / 2} points`);
  const t = easeInOut(index / (count + 1));
  const out = new Float64Array(to.length);
  for (let i = 0; i < to.length; i++) out[i] = from[i]! + (to[i]! - from[i]!) * t;
  return out;
}
