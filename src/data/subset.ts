/** Choosing fixed validation images, and turning pixels into model input. */
import { UserError } from '../errors.ts';
import { Random, mixSeed } from '../util/random.ts';
import { IMAGE_BYTES } from './cifar-format.ts';

/**
 * `size` indices into `labels`, sorted ascending, with the classes as equally represented as
 * possible (when a class runs out, the others make up the difference; leftover places go to
 * the lowest labels). The same (labels, seed) always gives the same images, and a smaller
 * subset with the same seed is contained in a larger one, because each class's images are
 * taken in the order of one seeded shuffle.
 */
export function stratifiedSubset(labels: Uint8Array, size: number, seed: number): Int32Array {
  if (!Number.isInteger(size) || size < 0) throw new UserError(`subset size must be a whole number >= 0, got ${size}`);
  if (size > labels.length) {
    throw new UserError(
      `a subset of ${size} images was asked for, but the set holds only ${labels.length}; ask for fewer`,
    );
  }
  let classCount = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] + 1 > classCount) classCount = labels[i] + 1;

  // Indices of each class, in a seeded random order (one stream per class, so adding images of
  // one class does not change the choice within another).
  const members: number[][] = Array.from({ length: classCount }, () => []);
  for (let i = 0; i < labels.length; i++) members[labels[i]].push(i);
  const random = new Random(0);
  for (let c = 0; c < classCount; c++) random.reseed(mixSeed(seed, c, 0x5b5e7)).shuffle(members[c]);

  // Round-robin quotas: every class gets one more while it has images left.
  const quota = new Int32Array(classCount);
  let assigned = 0;
  while (assigned < size) {
    for (let c = 0; c < classCount && assigned < size; c++) {
      if (quota[c] < members[c].length) {
        quota[c]++;
        assigned++;
      }
    }
  }

  const chosen = new Int32Array(size);
  let at = 0;
  for (let c = 0; c < classCount; c++) for (let k = 0; k < quota[c]; k++) chosen[at++] = members[c][k];
  return chosen.sort();
}

/** `x / 127.5 - 1` for every byte value, as float32. */
export const PIXEL_TO_UNIT: Float32Array = (() => {
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = v / 127.5 - 1;
  return table;
})();

/**
 * Model input for `images` (NHWC bytes): float32 NHWC scaled to [-1, 1] (`x / 127.5 - 1`), for
 * the images at `indices` in that order, or all of them. Writes into `out` when given (it must
 * hold at least that many images) and returns the filled part.
 */
export function toModelInput(images: Uint8Array, indices?: ArrayLike<number>, out?: Float32Array): Float32Array {
  const total = images.length / IMAGE_BYTES;
  const count = indices ? indices.length : total;
  const length = count * IMAGE_BYTES;
  if (out && out.length < length)
    throw new RangeError(`toModelInput: out holds ${out.length} values, ${length} needed`);
  const result = out ? out.subarray(0, length) : new Float32Array(length);
  if (!indices) {
    for (let i = 0; i < length; i++) result[i] = PIXEL_TO_UNIT[images[i]];
    return result;
  }
  for (let k = 0; k < count; k++) {
    const index = indices[k];
    if (!(index >= 0 && index < total)) throw new RangeError(`toModelInput: index ${index} is outside 0…${total - 1}`);
    const from = index * IMAGE_BYTES;
    const to = k * IMAGE_BYTES;
    for (let j = 0; j < IMAGE_BYTES; j++) result[to + j] = PIXEL_TO_UNIT[images[from + j]];
  }
  return result;
}
