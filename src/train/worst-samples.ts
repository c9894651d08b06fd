/**
 * The seed's "worst samples" view: for each class, the validation images of that class the
 * network gets most wrong (highest cross-entropy), in a grid, logged to TensorBoard at each
 * epoch's end. Watching these grids shows what the network still confuses.
 */
const TILE = 32;
const GAP = 2;
const CHANNELS = 3;

export interface GridImage {
  rgba: Uint8Array;
  width: number;
  height: number;
}

/** Indices of the `count` highest-loss images of each class, worst first. */
export function worstIndicesPerClass(
  labels: ArrayLike<number>,
  losses: ArrayLike<number>,
  numClasses: number,
  count: number,
): number[][] {
  const perClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (label >= 0 && label < numClasses) perClass[label]!.push(i);
  }
  // Ties keep index order so the grid is reproducible.
  return perClass.map((indices) => indices.sort((a, b) => losses[b]! - losses[a]! || a - b).slice(0, count));
}

/**
 * Tiles the images at `indices` (NHWC bytes, 32 × 32 × 3 each) into a grid `columns` wide,
 * row by row from the top left, with a white gap between tiles. RGBA, opaque.
 */
export function tileImages(images: Uint8Array, indices: readonly number[], columns = 8): GridImage {
  const rows = Math.max(1, Math.ceil(indices.length / columns));
  const width = columns * TILE + (columns + 1) * GAP;
  const height = rows * TILE + (rows + 1) * GAP;
  const rgba = new Uint8Array(width * height * 4).fill(255);
  const imageBytes = TILE * TILE * CHANNELS;
  indices.forEach((index, k) => {
    const left = GAP + (k % columns) * (TILE + GAP);
    const top = GAP + Math.floor(k / columns) * (TILE + GAP);
    const source = index * imageBytes;
    for (let y = 0; y < TILE; y++) {
      for (let x = 0; x < TILE; x++) {
        const from = source + (y * TILE + x) * CHANNELS;
        const to = ((top + y) * width + left + x) * 4;
        rgba[to] = images[from]!;
        rgba[to + 1] = images[from + 1]!;
        rgba[to + 2] = images[from + 2]!;
        rgba[to + 3] = 255;
      }
    }
  });
  return { rgba, width, height };
}

/** One grid per class of the `perClass` worst images (64 = an 8 × 8 grid). */
export function worstSampleGrids(
  images: Uint8Array,
  labels: ArrayLike<number>,
  losses: ArrayLike<number>,
  classNames: readonly string[],
  perClass = 64,
): { className: string; classIndex: number; grid: GridImage; indices: number[] }[] {
  const worst = worstIndicesPerClass(labels, losses, classNames.length, perClass);
  return classNames.map((className, classIndex) => ({
    className,
    classIndex,
    indices: worst[classIndex]!,
    grid: tileImages(images, worst[classIndex]!),
  }));
}
