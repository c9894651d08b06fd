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
 * Most pixels repeat their left neighbour (background, runs of one colour), which skips the
 * lookup; the others look their colour up in the palette's `NearestColours`, kept from one call
 * to the next: a frame's anti-aliased dots and text hold about 11,000 distinct colours, its tween
 * frames mostly the same ones, and finding each one's nearest entry anew was half the time of
 * a frame's GIF encoding (13–15 ms of an 800 × 600 frame, 6 ms with the kept table).
 */
export function indexPixels(rgba: Uint8Array | Uint8ClampedArray, palette: readonly Rgb[] = GIF_PALETTE): Uint8Array {
  const nearest = nearestColoursOf(palette);
  const count = rgba.length >>> 2;
  const indices = new Uint8Array(count);
  let lastKey = -1;
  let lastIndex = 0;
  for (let i = 0; i < count; i++) {
    const key = (rgba[4 * i]! << 16) | (rgba[4 * i + 1]! << 8) | rgba[4 * i + 2]!;
    if (key !== lastKey) {
      lastKey = key;
      lastIndex = nearest.lookup(key);
    }
    indices[i] = lastIndex;
  }
  return indices;
}

/** Tables kept per palette (by its colours: a GIF's table is read back from the file for every frame). */
const keptTables = new Map<string, NearestColours>();
/** More palettes than a watcher's chains use at once; beyond it the tables start over. */
const KEPT_PALETTES = 16;

function nearestColoursOf(palette: readonly Rgb[]): NearestColours {
  const name = palette.join(';');
  let table = keptTables.get(name);
  if (table === undefined) {
    if (keptTables.size >= KEPT_PALETTES) keptTables.clear();
    table = new NearestColours(palette);
    keptTables.set(name, table);
  }
  return table;
}

/**
 * The nearest palette entry of each 24-bit colour asked for so far: an open-addressing hash table
 * (linear probing, at most half full) in typed arrays, which is several times faster than a `Map`
 * here. It starts over once it holds `MAX_COLOURS`, so it stays a few megabytes at most.
 */
class NearestColours {
  private readonly flat: Int32Array;
  private bits = 14;
  private keys = new Int32Array(1 << 14).fill(-1);
  private values = new Uint8Array(1 << 14);
  private used = 0;
  private static readonly MAX_COLOURS = 1 << 19;

  constructor(palette: readonly Rgb[]) {
    this.flat = Int32Array.from(palette.flat());
  }

  lookup(key: number): number {
    const slot = this.slotOf(key);
    if (this.keys[slot] === key) return this.values[slot]!;
    if (2 * (this.used + 1) > this.keys.length) {
      this.resize(this.used >= NearestColours.MAX_COLOURS ? 14 : this.bits + 1);
      return this.lookup(key);
    }
    const index = this.nearest(key);
    this.keys[slot] = key;
    this.values[slot] = index;
    this.used++;
    return index;
  }

  /** The slot holding `key`, or the empty one where it would go. */
  private slotOf(key: number): number {
    const mask = this.keys.length - 1;
    let slot = Math.imul(key, 0x9e3779b1) >>> (32 - this.bits);
    while (this.keys[slot] !== key && this.keys[slot] !== -1) slot = (slot + 1) & mask;
    return slot;
  }

  /** A table of 2^bits slots holding the entries so far (none when it shrinks: starting over). */
  private resize(bits: number): void {
    const { keys, values } = this;
    const keep = bits > this.bits;
    this.bits = bits;
    this.keys = new Int32Array(1 << bits).fill(-1);
    this.values = new Uint8Array(1 << bits);
    this.used = 0;
    if (!keep) return;
    for (let slot = 0; slot < keys.length; slot++) {
      if (keys[slot] === -1) continue;
      const to = this.slotOf(keys[slot]!);
      this.keys[to] = keys[slot]!;
      this.values[to] = values[slot]!;
      this.used++;
    }
  }

  /** The nearest entry by a weighted RGB distance, closer to perceived difference than plain Euclidean. */
  private nearest(key: number): number {
    const r = key >>> 16;
    const g = (key >>> 8) & 0xff;
    const b = key & 0xff;
    const flat = this.flat;
    let best = 0;
    let bestDistance = Infinity;
    for (let entry = 0; 3 * entry < flat.length; entry++) {
      const dr = r - flat[3 * entry]!;
      const dg = g - flat[3 * entry + 1]!;
      const db = b - flat[3 * entry + 2]!;
      const distance = 2 * dr * dr + 4 * dg * dg + 3 * db * db;
      if (distance < bestDistance) {
        bestDistance = distance;
        best = entry;
      }
    }
    return best;
  }
}
