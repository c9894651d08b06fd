/**
 * Colours for points that are not CIFAR-10's ten classes: up to 20 categories (seaborn's
 * "muted" palette, then its "dark" one, so the first ten are the classes' colours), a
 * continuous map (viridis, in steps) for numbers or too many categories, and one colour when a
 * run has no labels. Every frame draws a point by an index into the chain's palette, so the GIF's
 * fixed colour table can be built from the palette once (`gifPaletteFor`).
 */
import { AXES_FACE, CLASS_COLORS, FIGURE_BACKGROUND, LIGHT_GREY, TEXT_DARK, TEXT_MUTED, type Rgb } from './palette.ts';

/** seaborn.color_palette("dark"): the second ten categories. */
const DARK: readonly Rgb[] = [
  [0x00, 0x1c, 0x7f],
  [0xb1, 0x40, 0x0d],
  [0x12, 0x71, 0x1c],
  [0x8c, 0x08, 0x00],
  [0x59, 0x1e, 0x71],
  [0x59, 0x2f, 0x0d],
  [0xa2, 0x35, 0x82],
  [0x3c, 0x3c, 0x3c],
  [0xb8, 0x85, 0x0a],
  [0x00, 0x63, 0x74],
];

/** Up to 20 categories, told apart. */
export const CATEGORY_COLORS: readonly Rgb[] = [...CLASS_COLORS, ...DARK];

/** Matplotlib's viridis at 0, 1/8, …, 1. */
const VIRIDIS_STOPS: readonly Rgb[] = [
  [0x44, 0x01, 0x54],
  [0x46, 0x32, 0x7e],
  [0x36, 0x5c, 0x8d],
  [0x27, 0x7f, 0x8e],
  [0x1f, 0xa1, 0x87],
  [0x4a, 0xc1, 0x6d],
  [0xa0, 0xda, 0x39],
  [0xd8, 0xe2, 0x19],
  [0xfd, 0xe7, 0x25],
];

/** Steps of the continuous map: enough for a smooth bar, few enough for the GIF's table. */
export const CONTINUOUS_STEPS = 16;

/** Viridis at `t` in [0, 1]. */
export function viridis(t: number): Rgb {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS_STOPS.length - 1);
  const k = Math.min(VIRIDIS_STOPS.length - 2, Math.floor(x));
  const f = x - k;
  const a = VIRIDIS_STOPS[k]!;
  const b = VIRIDIS_STOPS[k + 1]!;
  return [0, 1, 2].map((c) => Math.round(a[c]! * (1 - f) + b[c]! * f)) as unknown as Rgb;
}

/** The continuous map in `CONTINUOUS_STEPS` colours, low to high. */
export const CONTINUOUS_COLORS: readonly Rgb[] = Array.from({ length: CONTINUOUS_STEPS }, (_, k) =>
  viridis(k / (CONTINUOUS_STEPS - 1)),
);

/** Points with no value on a continuous scale (an empty cell). */
export const MISSING_COLOR: Rgb = [0xb0, 0xb0, 0xb0];

/** The one colour of points without labels. */
export const SINGLE_COLOR: Rgb = CLASS_COLORS[0]!;

/** A colour bar instead of the legend: the scale's name and what its two ends stand for. */
export interface ColorBar {
  title: string;
  low: string;
  high: string;
  /** Colours from low to high, as the points use them. */
  colors: readonly Rgb[];
}

/** The step of the continuous map for `value` on [min, max]; the missing colour's index for NaN. */
export function continuousIndex(value: number, min: number, max: number): number {
  if (!Number.isFinite(value)) return CONTINUOUS_STEPS;
  const t = max > min ? (value - min) / (max - min) : 0.5;
  return Math.min(CONTINUOUS_STEPS - 1, Math.max(0, Math.floor(t * CONTINUOUS_STEPS)));
}

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [0, 1, 2].map((c) => Math.round(a[c]! * (1 - t) + b[c]! * t)) as unknown as Rgb;
}

/**
 * A GIF colour table (a power of two, at most 256) for frames drawn with `colors`: the figure's
 * greys, the colours, and their half-tints over the axes face (where dot edges land).
 */
export function gifPaletteFor(colors: readonly Rgb[]): Rgb[] {
  const greys: Rgb[] = [FIGURE_BACKGROUND, AXES_FACE, TEXT_DARK, TEXT_MUTED, [0x9a, 0x9a, 0x9a], LIGHT_GREY];
  const table: Rgb[] = [...greys, ...colors, ...colors.map((c) => mix(c, AXES_FACE, 0.5))].slice(0, 256);
  let size = 2;
  while (size < table.length) size *= 2;
  while (table.length < size) table.push(FIGURE_BACKGROUND);
  return table;
}
