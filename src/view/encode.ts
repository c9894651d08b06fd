/**
 * The timelapse page's data, in two parts: the header (the points: labels, test indices, class
 * names, sprite, the measures to chart), which lives in the page, and chunks of frames, which live
 * in script files beside it and are only ever appended (see `page.ts`).
 *
 * Positions are quantised to 16 bits per coordinate over a chunk's bounds and stored as base64 of
 * a little-endian Uint16Array: 4 bytes per point per frame before base64. Bounds carry a margin
 * and are reused while new frames fit, so a point that does not move keeps its code from frame to
 * frame. At the page's largest scatter (about 1,000 px) a code step is under 1/30,000 of the
 * width: far below a pixel, so the frames are drawn as the watcher aligned them.
 */

export const TIMELAPSE_FORMAT = 2;
/** Codes 0..QUANT_MAX span a chunk's bounds. */
export const QUANT_MAX = 65535;
/** New bounds reach this share of the frames' span beyond them on each side. */
const BOUNDS_MARGIN = 0.25;

/** One measure the page charts: the frame records' field `key`, shown as `name`. */
export interface PageMeasure {
  key: string;
  name: string;
  format: 'percent' | 'decimal';
}

/** One frame as the watcher made it: the aligned positions and the measures of its state record. */
export interface TimelapseFrame {
  step: number;
  /** Interleaved `[x0, y0, x1, y1, …]`, as in `frames/step-N.tsv`. */
  positions: ArrayLike<number>;
  /** The predicted class of each point at this step, when the watcher has it. */
  predictions?: Uint8Array | null;
  accuracy: number | null;
  neighborhoodHit: number;
  knnPreservation: number;
  displacement: number;
}

export type Bounds = { minX: number; maxX: number; minY: number; maxY: number };

export interface PageSprite {
  /** Path relative to the page; tile i = point i, `side` tiles per row of `tile` px. */
  src: string;
  tile: number;
  side: number;
}

/** A column of per-point metadata (another trainer's labels, a data source, a loss …). */
export interface MetadataColumn {
  name: string;
  /** One value per point. */
  values: (string | number)[];
}

/** What the page knows before any frame: it is written once per chain of frames. */
export interface PageHeader {
  format: number;
  /** Names this chain of chunks: a chunk of another chain is never mixed in. */
  chain: string;
  run: string;
  count: number;
  classNames: string[];
  /** base64 Uint8Array. */
  labels: string;
  /** base64 little-endian Uint32Array. */
  testIndices: string;
  sprite: PageSprite | null;
  measures: PageMeasure[];
  /** Columns to colour by and search in, when the run has them. */
  metadata?: { columns: MetadataColumn[] };
  /** CSS colour of each label (default: the ten CIFAR-10 class colours). */
  colors?: string[];
  /** What the points are ('test images' when absent) and what their index counts ('test image'). */
  noun?: string;
  indexName?: string;
  /** The folder of the chunk files, relative to the page; null when the frames are inline. */
  chunkDir: string | null;
}

/** Frames appended together: `frames[k]` is the base64 codes of step `steps[k]`. */
export interface FrameChunk {
  chain: string;
  index: number;
  steps: number[];
  /** Position = min + code / QUANT_MAX × (max − min), per axis. */
  bounds: Bounds;
  frames: string[];
  /** One value per frame for each measure key (null: the frame has none). */
  metrics: Record<string, (number | null)[]>;
  /** base64 Uint8Array of predicted classes per frame, or null where the frame has none. */
  predictions: (string | null)[];
}

/** A page with its frames inline: one self-contained file (the client reads them as chunk 0). */
export type TimelapseData = PageHeader & Omit<FrameChunk, 'chain' | 'index'>;

export const DEFAULT_MEASURES: PageMeasure[] = [
  { key: 'accuracy', name: 'validation accuracy (test images)', format: 'percent' },
  { key: 'neighborhoodHit', name: 'neighbourhood hit', format: 'decimal' },
  { key: 'knnPreservation', name: '10-NN preservation', format: 'decimal' },
  { key: 'displacement', name: 'displacement', format: 'decimal' },
];

export interface HeaderInput {
  run: string;
  classNames: string[];
  labels: Uint8Array;
  /** Each point's index in the CIFAR-10 test set. */
  testIndices: ArrayLike<number>;
  sprite: PageSprite | null;
  measures?: PageMeasure[];
  metadata?: MetadataColumn[];
  chain?: string;
  chunkDir?: string | null;
  colors?: string[];
  noun?: string;
  indexName?: string;
}

export function base64(bytes: ArrayBufferView): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function encodeHeader(input: HeaderInput): PageHeader {
  const count = input.labels.length;
  const indexBytes = new Uint8Array(4 * count);
  const view = new DataView(indexBytes.buffer);
  for (let i = 0; i < count; i++) view.setUint32(4 * i, input.testIndices[i]!, true);
  for (const column of input.metadata ?? []) {
    if (column.values.length !== count) {
      throw new Error(`timelapse: metadata column ${column.name} has ${column.values.length} values, the run ${count}`);
    }
  }
  return {
    format: TIMELAPSE_FORMAT,
    chain: input.chain ?? 'inline',
    run: input.run,
    count,
    classNames: input.classNames,
    labels: base64(input.labels),
    testIndices: base64(indexBytes),
    sprite: input.sprite,
    measures: input.measures ?? DEFAULT_MEASURES,
    ...(input.metadata && input.metadata.length > 0 ? { metadata: { columns: input.metadata } } : {}),
    chunkDir: input.chunkDir === undefined ? 'page' : input.chunkDir,
    ...(input.colors ? { colors: input.colors } : {}),
    ...(input.noun ? { noun: input.noun } : {}),
    ...(input.indexName ? { indexName: input.indexName } : {}),
  };
}

function littleEndianUint16(values: Uint16Array): Uint16Array {
  if (new Uint8Array(Uint16Array.of(1).buffer)[0] === 1) return values;
  const swapped = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) swapped[i] = ((values[i]! & 0xff) << 8) | (values[i]! >> 8);
  return swapped;
}

/** The smallest box around every frame's points (null when there are none). */
export function frameExtent(frames: readonly { positions: ArrayLike<number> }[]): Bounds | null {
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (const { positions } of frames) {
    for (let i = 0; i < positions.length; i += 2) {
      const x = positions[i]!;
      const y = positions[i + 1]!;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
  }
  return Number.isFinite(minX) ? { minX, maxX, minY, maxY } : null;
}

function contains(outer: Bounds, inner: Bounds): boolean {
  return inner.minX >= outer.minX && inner.maxX <= outer.maxX && inner.minY >= outer.minY && inner.maxY <= outer.maxY;
}

/** `previous` when the frames fit in it, else new bounds around both with a margin. */
export function chunkBounds(frames: readonly { positions: ArrayLike<number> }[], previous: Bounds | null): Bounds {
  const extent = frameExtent(frames);
  if (!extent) return previous ?? { minX: -1, maxX: 1, minY: -1, maxY: 1 };
  if (previous && contains(previous, extent)) return previous;
  const box = previous
    ? {
        minX: Math.min(previous.minX, extent.minX),
        maxX: Math.max(previous.maxX, extent.maxX),
        minY: Math.min(previous.minY, extent.minY),
        maxY: Math.max(previous.maxY, extent.maxY),
      }
    : extent;
  // A degenerate axis (all points on a line) still needs a non-zero span to divide by.
  const marginX = Math.max(box.maxX - box.minX, 1e-6) * BOUNDS_MARGIN;
  const marginY = Math.max(box.maxY - box.minY, 1e-6) * BOUNDS_MARGIN;
  return { minX: box.minX - marginX, maxX: box.maxX + marginX, minY: box.minY - marginY, maxY: box.maxY + marginY };
}

export function quantiseFrame(positions: ArrayLike<number>, bounds: Bounds): Uint16Array {
  const codes = new Uint16Array(positions.length);
  const scaleX = QUANT_MAX / (bounds.maxX - bounds.minX);
  const scaleY = QUANT_MAX / (bounds.maxY - bounds.minY);
  for (let i = 0; i < positions.length; i += 2) {
    codes[i] = Math.round((positions[i]! - bounds.minX) * scaleX);
    codes[i + 1] = Math.round((positions[i + 1]! - bounds.minY) * scaleY);
  }
  return codes;
}

export function dequantise(codes: Uint16Array, bounds: Bounds): Float64Array {
  const out = new Float64Array(codes.length);
  for (let i = 0; i < codes.length; i += 2) {
    out[i] = bounds.minX + (codes[i]! / QUANT_MAX) * (bounds.maxX - bounds.minX);
    out[i + 1] = bounds.minY + (codes[i + 1]! / QUANT_MAX) * (bounds.maxY - bounds.minY);
  }
  return out;
}

export function decodeUint16(text: string): Uint16Array {
  const bytes = Buffer.from(text, 'base64');
  const values = new Uint16Array(bytes.length / 2);
  for (let i = 0; i < values.length; i++) values[i] = bytes.readUInt16LE(2 * i);
  return values;
}

function measureValue(frame: object, key: string): number | null {
  const value = (frame as Record<string, unknown>)[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Encodes `frames` (sorted by step here) into one chunk; `previous` = the last chunk's bounds. */
export function encodeChunk(
  frames: readonly TimelapseFrame[],
  options: { count: number; chain: string; index: number; measures: readonly PageMeasure[]; previous: Bounds | null },
): FrameChunk {
  for (const frame of frames) {
    if (frame.positions.length !== 2 * options.count) {
      throw new Error(
        `timelapse: frame of step ${frame.step} has ${frame.positions.length / 2} points, the run has ${options.count}`,
      );
    }
  }
  const sorted = [...frames].sort((a, b) => a.step - b.step);
  const bounds = chunkBounds(sorted, options.previous);
  const metrics: FrameChunk['metrics'] = {};
  for (const { key } of options.measures) metrics[key] = sorted.map((f) => measureValue(f, key));
  // Images seen, when the records have it: a compared run's frames are matched by it.
  if (sorted.some((f) => measureValue(f, 'samplesSeen') !== null))
    metrics.samplesSeen = sorted.map((f) => measureValue(f, 'samplesSeen'));
  return {
    chain: options.chain,
    index: options.index,
    steps: sorted.map((f) => f.step),
    bounds,
    frames: sorted.map((f) => base64(littleEndianUint16(quantiseFrame(f.positions, bounds)))),
    metrics,
    predictions: sorted.map((f) =>
      f.predictions && f.predictions.length === options.count ? base64(f.predictions) : null,
    ),
  };
}

/** A whole run in one object: the header and every frame as one inline chunk. */
export function encodeTimelapse(input: HeaderInput & { frames: TimelapseFrame[] }): TimelapseData {
  const header = encodeHeader({ ...input, chunkDir: null });
  const {
    chain: _chain,
    index: _index,
    ...chunk
  } = encodeChunk(input.frames, {
    count: header.count,
    chain: header.chain,
    index: 0,
    measures: header.measures,
    previous: null,
  });
  return { ...header, ...chunk };
}
