/**
 * The colours of every frame. Seaborn's "muted" palette for the ten classes (the seed plotted
 * with `sns.scatterplot(..., palette="muted")`), seaborn's grey axes face with white grid lines,
 * and a few greys for text and ticks.
 *
 * The GIF uses one global colour table for all frames, built from these colours, so each frame
 * is stored once and never re-quantised. Half-tints of the class colours over the axes face are
 * in the table too: anti-aliased dot edges land on them instead of on an unrelated colour.
 */

export type Rgb = readonly [number, number, number];

/** seaborn.color_palette("muted"), in class order 0–9. */
export const CLASS_COLORS: readonly Rgb[] = [
  [0x48, 0x78, 0xd0],
  [0xee, 0x85, 0x4a],
  [0x6a, 0xcc, 0x64],
  [0xd6, 0x5f, 0x5f],
  [0x95, 0x6c, 0xb4],
  [0x8c, 0x61, 0x3c],
  [0xdc, 0x7e, 0xc0],
  [0x79, 0x79, 0x79],
  [0xd5, 0xbb, 0x67],
  [0x82, 0xc6, 0xe2],
];

export const FIGURE_BACKGROUND: Rgb = [0xff, 0xff, 0xff];
/** seaborn "darkgrid" axes face. */
export const AXES_FACE: Rgb = [0xea, 0xea, 0xf2];
export const TEXT_DARK: Rgb = [0x26, 0x26, 0x26];
export const TEXT_MUTED: Rgb = [0x5a, 0x5a, 0x5a];
const TICK_GREY: Rgb = [0x9a, 0x9a, 0x9a];
export const LIGHT_GREY: Rgb = [0xcc, 0xcc, 0xcc];

export function cssColor([r, g, b]: Rgb): string {
  return `rgb(${r}, ${g}, ${b})`;
}

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [
    Math.round(a[0] * (1 - t) + b[0] * t),
    Math.round(a[1] * (1 - t) + b[1] * t),
    Math.round(a[2] * (1 - t) + b[2] * t),
  ];
}

/**
 * The fixed GIF colour table: 32 entries (a GIF table holds a power of two).
 * 0 white, 1 axes face, 2–5 greys, 6–15 class colours, 16–25 half-tints, 26–31 padding (white).
 */
export const GIF_PALETTE: readonly Rgb[] = (() => {
  const table: Rgb[] = [FIGURE_BACKGROUND, AXES_FACE, TEXT_DARK, TEXT_MUTED, TICK_GREY, LIGHT_GREY];
  table.push(...CLASS_COLORS);
  table.push(...CLASS_COLORS.map((c) => mix(c, AXES_FACE, 0.5)));
  while (table.length < 32) table.push(FIGURE_BACKGROUND);
  return table;
})();

/**
 * Maps RGBA pixels (alpha ignored: our canvases are opaque) to the nearest palette entry.
 * Plots hold few distinct colours, so a cache keyed by the 24-bit colour makes this one lookup
 * per pixel after the first few, and most pixels repeat their left neighbour (background, runs
 * of one colour), which skips even that lookup.
 */
export function indexPixels(rgba: Uint8Array | Uint8ClampedArray, palette: readonly Rgb[] = GIF_PALETTE): Uint8Array {
  const count = rgba.length >>> 2;
  const indices = new Uint8Array(count);
  const cache = new Map<number, number>();
  let lastKey = -1;
  let lastIndex = 0;
  for (let i = 0; i < count; i++) {
    const key = (rgba[4 * i]! << 16) | (rgba[4 * i + 1]! << 8) | rgba[4 * i + 2]!;
    if (key !== lastKey) {
      let index = cache.get(key);
      if (index === undefined) {
        index = nearestIndex(key >>> 16, (key >>> 8) & 0xff, key & 0xff, palette);
        cache.set(key, index);
      }
      lastKey = key;
      lastIndex = index;
    }
    indices[i] = lastIndex;
  }
  return indices;
}

function nearestIndex(r: number, g: number, b: number, palette: readonly Rgb[]): number {
  let best = 0;
  let bestDistance = Infinity;
  for (let k = 0; k < palette.length; k++) {
    const [pr, pg, pb] = palette[k]!;
    // Weighted RGB distance: closer to perceived difference than plain Euclidean.
    const distance = 2 * (r - pr) ** 2 + 4 * (g - pg) ** 2 + 3 * (b - pb) ** 2;
    if (distance < bestDistance) {
      bestDistance = distance;
      best = k;
    }
  }
  return best;
}
