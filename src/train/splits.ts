/** The training and validation subsets a run uses (`--max-samples`, `--val-samples`). */
import { UserError } from '../errors.ts';
import { IMAGE_BYTES, stratifiedSubset, type Split } from '../data/index.ts';

/** A copy of the images and labels at `indices` of `split`. */
function subsetSplit(split: Split, indices: Int32Array): Split {
  const images = new Uint8Array(indices.length * IMAGE_BYTES);
  const labels = new Uint8Array(indices.length);
  indices.forEach((index, k) => {
    images.set(split.images.subarray(index * IMAGE_BYTES, (index + 1) * IMAGE_BYTES), k * IMAGE_BYTES);
    labels[k] = split.labels[index]!;
  });
  return { images, labels, count: indices.length };
}

/** A class-balanced subset of `size` images (seeded), or the whole split when size is undefined or too big. */
export function chooseSubset(split: Split, size: number | undefined, seed: number, what: string, flag: string): Split {
  if (size === undefined || size >= split.count) return split;
  if (size < 1) throw new UserError(`--${flag} must be at least 1, got ${size}`);
  const subset = subsetSplit(split, stratifiedSubset(split.labels, size, seed));
  if (subset.count !== size) throw new Error(`${what} subset has ${subset.count} images, ${size} asked for`);
  return subset;
}
