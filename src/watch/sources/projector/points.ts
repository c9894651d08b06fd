/**
 * The fixed points of a user's chain: how many, their colours and legend (from the metadata),
 * and their thumbnails (from the sprite). Taken from the chain's first complete step with
 * metadata and sprite: PyTorch writes the same ones at every step, and the rows are the same
 * points in the same order.
 */
import { MAX_SPRITE_PIXELS } from '../../../tensorboard/projector.ts';
import {
  CATEGORY_COLORS,
  CONTINUOUS_COLORS,
  MISSING_COLOR,
  SINGLE_COLOR,
  continuousIndex,
  type ColorBar,
} from '../../../render/colors.ts';
import type { Rgb } from '../../../render/palette.ts';
import type { StepFiles } from './discover.ts';
import { chooseColorColumn, colorPoints, noColoring, parseMetadata, type PointColoring } from './metadata.ts';
import { readRunFile } from './run-file.ts';
import { cutSprite, type Thumbnails } from './sprite.ts';
import { parseTensorFile } from './tensors.ts';

const MAX_METADATA_BYTES = 256 * 1024 * 1024;
const MAX_SPRITE_BYTES = 512 * 1024 * 1024;
const MAX_TENSOR_BYTES = 2 ** 31 - 1;

export interface ChainPoints {
  count: number;
  /** Each point's index into `palette`. */
  labels: Uint8Array;
  /** The legend: one name per colour of `palette`. */
  classNames: string[];
  palette: Rgb[];
  /** For a continuous scale: the bar drawn instead of the legend. */
  colorBar?: ColorBar;
  /** A point's row in the user's files. */
  testIndices: Int32Array;
  /** Square thumbnails, NHWC RGB `count × tile × tile × 3`; null when the run has no sprite. */
  images: Uint8Array | null;
  tile: number;
  /** One line for the log: what colours the points, and why. */
  note: string;
  noun: string;
  indexName: string;
  /** Every column of the metadata file, for the page (none without metadata). */
  columns: { name: string; values: string[] }[];
  /** The metadata file's bytes (or the point count): the same points whatever colours them. */
  identity: Uint8Array;
}

/** Colour indices, legend and palette for `coloring`. */
export function paletteOf(
  coloring: PointColoring,
  count: number,
): Pick<ChainPoints, 'labels' | 'classNames' | 'palette' | 'colorBar' | 'note'> {
  switch (coloring.kind) {
    case 'categorical':
      return {
        labels: coloring.codes,
        classNames: coloring.categories,
        palette: CATEGORY_COLORS.slice(0, Math.max(1, coloring.categories.length)),
        note: `colour by '${coloring.column}': ${coloring.categories.length} categories`,
      };
    case 'continuous': {
      const labels = Uint8Array.from(coloring.values, (v) => continuousIndex(v, coloring.min, coloring.max));
      const colorBar = {
        title: coloring.column,
        low: coloring.lowLabel,
        high: coloring.highLabel,
        colors: CONTINUOUS_COLORS,
      };
      // The page has no bar: its legend names each step of the scale.
      const width = (coloring.max - coloring.min) / CONTINUOUS_COLORS.length;
      const names = CONTINUOUS_COLORS.map((_, k) =>
        coloring.numeric
          ? `${coloring.column} ≥ ${+(coloring.min + k * width).toPrecision(3)}`
          : `${coloring.column}: step ${k + 1} of ${CONTINUOUS_COLORS.length}`,
      );
      return {
        labels,
        classNames: [...names, 'no value'],
        palette: [...CONTINUOUS_COLORS, MISSING_COLOR],
        colorBar,
        note: `colour by '${coloring.column}' on a continuous scale (${coloring.because})`,
      };
    }
    case 'none':
      return {
        labels: new Uint8Array(count),
        classNames: [`all points (${coloring.reason})`],
        palette: [SINGLE_COLOR],
        note: `one colour for every point: ${coloring.reason}`,
      };
  }
}

/** Square tiles of side `tile`: each thumbnail scaled to fit (nearest pixel) and centred on black. */
export function squareTiles(thumbs: Thumbnails, tile: number): Uint8Array {
  const { tileWidth: w, tileHeight: h, count } = thumbs;
  const scale = Math.min(tile / w, tile / h);
  const drawnW = Math.max(1, Math.round(w * scale));
  const drawnH = Math.max(1, Math.round(h * scale));
  const left = Math.floor((tile - drawnW) / 2);
  const top = Math.floor((tile - drawnH) / 2);
  const out = new Uint8Array(count * tile * tile * 3);
  for (let t = 0; t < count; t++) {
    for (let y = 0; y < drawnH; y++) {
      const sy = Math.min(h - 1, Math.floor(y / scale));
      for (let x = 0; x < drawnW; x++) {
        const sx = Math.min(w - 1, Math.floor(x / scale));
        const from = (t * w * h + sy * w + sx) * 3;
        const to = (t * tile * tile + (top + y) * tile + left + x) * 3;
        out[to] = thumbs.pixels[from]!;
        out[to + 1] = thumbs.pixels[from + 1]!;
        out[to + 2] = thumbs.pixels[from + 2]!;
      }
    }
  }
  return out;
}

/** The side of the square tiles: the thumbnails' longer side, small enough for TensorBoard's sprite limit. */
export function tileSideFor(thumbs: Pick<Thumbnails, 'tileWidth' | 'tileHeight' | 'count'>): number {
  const side = Math.ceil(Math.sqrt(thumbs.count));
  return Math.max(1, Math.min(Math.max(thumbs.tileWidth, thumbs.tileHeight), Math.floor(MAX_SPRITE_PIXELS / side)));
}

/**
 * The chain's points from `step` (a complete step): metadata colours by `colorBy` (see
 * metadata.ts), sprite thumbnails when there is a sprite.
 */
export async function chainPoints(runDir: string, step: StepFiles, colorBy?: string): Promise<ChainPoints> {
  let count: number;
  let coloring: PointColoring;
  let identity: Uint8Array;
  let columns: ChainPoints['columns'] = [];
  if (step.metadataPath) {
    identity = await readRunFile(runDir, step.metadataPath, MAX_METADATA_BYTES);
    const text = Buffer.from(identity).toString('utf8');
    const metadata = parseMetadata(text, step.metadataPath);
    count = metadata.rows.length;
    columns = metadata.columns.map((name, c) => ({ name, values: metadata.rows.map((row) => row[c]!) }));
    coloring = colorPoints(metadata, chooseColorColumn(metadata, colorBy, step.metadataPath));
  } else {
    const tensor = parseTensorFile(
      await readRunFile(runDir, step.tensorPath, MAX_TENSOR_BYTES),
      step.tensorPath,
      step.tensorShape,
    );
    count = tensor.rows;
    identity = new TextEncoder().encode(`${count} points`);
    coloring = noColoring('the run logged no metadata (add_embedding without metadata=)');
  }
  let images: Uint8Array | null = null;
  let tile = 32;
  if (step.spritePath) {
    const bytes = await readRunFile(runDir, step.spritePath, MAX_SPRITE_BYTES);
    const thumbs = await cutSprite(bytes, count, step.tileSize, step.spritePath);
    tile = tileSideFor(thumbs);
    images = squareTiles(thumbs, tile);
  }
  return {
    count,
    ...paletteOf(coloring, count),
    testIndices: Int32Array.from({ length: count }, (_, i) => i),
    images,
    tile,
    noun: 'points',
    indexName: 'row',
    columns,
    identity,
  };
}
