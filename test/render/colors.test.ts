import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GifWriter, drawScatter, indexPixels, scatterLayout, type Rgb } from '../../src/render/index.ts';
import { decodeGif } from './gif-decoder.ts';
import {
  CATEGORY_COLORS,
  CONTINUOUS_COLORS,
  continuousIndex,
  gifPaletteFor,
  viridis,
} from '../../src/render/colors.ts';

/** Every distinct colour of the image, as 0xRRGGBB. */
function colorsOf(image: { rgba: Uint8Array }): Set<number> {
  const out = new Set<number>();
  for (let i = 0; i < image.rgba.length; i += 4)
    out.add((image.rgba[i]! << 16) | (image.rgba[i + 1]! << 8) | image.rgba[i + 2]!);
  return out;
}
const hex = ([r, g, b]: readonly number[]) => (r! << 16) | (g! << 8) | b!;

function spread(n: number): Float64Array {
  const points = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    points[2 * i] = -2.5 + (5 * (i % 10)) / 9;
    points[2 * i + 1] = -2.5 + (5 * Math.floor(i / 10)) / Math.max(1, Math.ceil(n / 10) - 1);
  }
  return points;
}

test('20 categories: each drawn in its own colour, all 20 names in the legend', () => {
  const n = 200;
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 20);
  const names = Array.from({ length: 20 }, (_, k) => `category ${k}`);
  const image = drawScatter({ points: spread(n), labels, classNames: names, palette: CATEGORY_COLORS, title: 't' });
  const seen = colorsOf(image);
  for (const color of CATEGORY_COLORS) assert.ok(seen.has(hex(color)), `colour ${hex(color).toString(16)} is drawn`);
});

test('a continuous scale draws a colour bar of the map, low at the bottom, high at the top', () => {
  const n = 100;
  const labels = Uint8Array.from({ length: n }, (_, i) => continuousIndex(i, 0, n - 1));
  const image = drawScatter({
    points: spread(n),
    labels,
    classNames: [],
    palette: CONTINUOUS_COLORS,
    colorBar: { title: 'age', low: '0', high: '99', colors: CONTINUOUS_COLORS },
    title: 't',
    width: 800,
    height: 600,
  });
  const { legendX, top, size } = scatterLayout(800, 600);
  const fontSize = Math.round(600 / 43);
  const at = (y: number) => {
    const i = 4 * (Math.round(y) * image.width + legendX + 8);
    return hex([image.rgba[i]!, image.rgba[i + 1]!, image.rgba[i + 2]!]);
  };
  assert.equal(at(top + fontSize * 2 + 4), hex(CONTINUOUS_COLORS.at(-1)!));
  assert.equal(at(top + size - fontSize * 2 - 4), hex(CONTINUOUS_COLORS[0]!));
  assert.equal(continuousIndex(NaN, 0, 1), CONTINUOUS_COLORS.length);
  assert.deepEqual(viridis(0), [0x44, 0x01, 0x54]);
});

test("the GIF table for a chain's colours holds them exactly, as a power of two", () => {
  const table = gifPaletteFor(CATEGORY_COLORS);
  assert.equal(table.length, 64);
  const image = drawScatter({
    points: spread(40),
    labels: Uint8Array.from({ length: 40 }, (_, i) => i % 20),
    classNames: [],
    palette: CATEGORY_COLORS,
    title: 't',
  });
  const indices = indexPixels(image.rgba, table);
  const used = new Set(indices);
  for (let k = 6; k < 26; k++) assert.ok(used.has(k), `category ${k - 6} maps to its own entry`);
});

test("frames appended to a GIF begun with another colour table use the file's table", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gif-colors-'));
  const path = join(dir, 'animation.gif');
  const table = gifPaletteFor(CATEGORY_COLORS);
  const draw = (palette: readonly Rgb[]) =>
    drawScatter({
      points: spread(40),
      labels: Uint8Array.from({ length: 40 }, (_, i) => i % 20),
      classNames: [],
      palette,
      title: 't',
      width: 200,
      height: 150,
    });
  await new GifWriter(path, { palette: table }).append(draw(CATEGORY_COLORS), 1);
  // A writer with the default table (e.g. a watcher restarted with other colours) appends to it.
  await new GifWriter(path).append(draw(CATEGORY_COLORS), 2);
  const decoded = decodeGif(new Uint8Array(await readFile(path)));
  assert.equal(decoded.palette?.length, 64);
  // The same picture, so the same indices into the same table.
  const [first, second] = decoded.decoded;
  assert.ok(Buffer.from(second!.indices).equals(Buffer.from(first!.indices)));
});
