/**
 * The timelapse page's data: every frame of a run, compact enough to inline in one HTML file.
 *
 * Positions are quantised to 16 bits per coordinate over the bounds of all frames together (so a
 * point that does not move keeps exactly the same code from frame to frame) and stored as base64
 * of a little-endian Uint16Array: 4 bytes per point per frame before base64, 10,000 points ×
 * 100 frames ≈ 5.3 MB. At the page's largest scatter (about 1,000 px) a code step is
 * 1/65,535 of the width: far below a pixel, so the frames are drawn as the watcher aligned them.
 */

export const TIMELAPSE_FORMAT = 1;
/** Codes 0..QUANT_MAX span the bounds of all frames. */
export const QUANT_MAX = 65535;

/** One frame as the watcher made it: the aligned positions and the measures of its state record. */
export interface TimelapseFrame {
  step: number;
  /** Interleaved `[x0, y0, x1, y1, …]`, as in `frames/step-N.tsv`. */
  positions: ArrayLike<number>;
  accuracy: number | null;
  neighborhoodHit: number;
  knnPreservation: number;
  displacement: number;
}

export interface TimelapseInput {
  run: string;
  classNames: string[];
  labels: Uint8Array;
  /** Each point's index in the CIFAR-10 test set. */
  testIndices: ArrayLike<number>;
  frames: TimelapseFrame[];
  /** The projector sprite beside the page (path relative to the page), tile i = point i. */
  sprite: { src: string; tile: number; side: number } | null;
  /** CSS colour of each label (default: the ten CIFAR-10 class colours). */
  colors?: string[];
  /** What the points are ('test images' when absent) and what their index counts ('test image'). */
  noun?: string;
  indexName?: string;
}

export interface TimelapseData {
  format: number;
  run: string;
  count: number;
  classNames: string[];
  /** base64 Uint8Array. */
  labels: string;
  /** base64 little-endian Uint32Array. */
  testIndices: string;
  steps: number[];
  /** Position = min + code / QUANT_MAX × (max − min), per axis. */
  bounds: { minX: number; maxX: number; minY: number; maxY: number };
  /** One base64 little-endian Uint16Array (x, y interleaved) per frame. */
  frames: string[];
  metrics: {
    accuracy: (number | null)[];
    neighborhoodHit: number[];
    knnPreservation: number[];
    displacement: number[];
  };
  sprite: TimelapseInput['sprite'];
  colors?: string[];
  noun?: string;
  indexName?: string;
  generated: string;
}

function base64(bytes: ArrayBufferView): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function littleEndianUint16(values: Uint16Array): Uint16Array {
  if (new Uint8Array(Uint16Array.of(1).buffer)[0] === 1) return values;
  const swapped = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) swapped[i] = ((values[i]! & 0xff) << 8) | (values[i]! >> 8);
  return swapped;
}

function frameBounds(frames: TimelapseFrame[]): TimelapseData['bounds'] {
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
  if (!Number.isFinite(minX)) return { minX: -1, maxX: 1, minY: -1, maxY: 1 };
  // A degenerate axis (all points on a line) still needs a non-zero span to divide by.
  if (maxX === minX) maxX = minX + 1;
  if (maxY === minY) maxY = minY + 1;
  return { minX, maxX, minY, maxY };
}

export function quantiseFrame(positions: ArrayLike<number>, bounds: TimelapseData['bounds']): Uint16Array {
  const codes = new Uint16Array(positions.length);
  const scaleX = QUANT_MAX / (bounds.maxX - bounds.minX);
  const scaleY = QUANT_MAX / (bounds.maxY - bounds.minY);
  for (let i = 0; i < positions.length; i += 2) {
    codes[i] = Math.round((positions[i]! - bounds.minX) * scaleX);
    codes[i + 1] = Math.round((positions[i + 1]! - bounds.minY) * scaleY);
  }
  return codes;
}

export function dequantise(codes: Uint16Array, bounds: TimelapseData['bounds']): Float64Array {
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

export function encodeTimelapse(input: TimelapseInput): TimelapseData {
  const count = input.labels.length;
  for (const frame of input.frames) {
    if (frame.positions.length !== 2 * count) {
      throw new Error(
        `timelapse: frame of step ${frame.step} has ${frame.positions.length / 2} points, the run has ${count}`,
      );
    }
  }
  const frames = [...input.frames].sort((a, b) => a.step - b.step);
  const bounds = frameBounds(frames);
  const indices = new Uint32Array(count);
  for (let i = 0; i < count; i++) indices[i] = input.testIndices[i]!;
  const indexBytes = new Uint8Array(4 * count);
  const view = new DataView(indexBytes.buffer);
  indices.forEach((value, i) => view.setUint32(4 * i, value, true));
  return {
    format: TIMELAPSE_FORMAT,
    run: input.run,
    count,
    classNames: input.classNames,
    labels: base64(input.labels),
    testIndices: base64(indexBytes),
    steps: frames.map((f) => f.step),
    bounds,
    frames: frames.map((f) => base64(littleEndianUint16(quantiseFrame(f.positions, bounds)))),
    metrics: {
      accuracy: frames.map((f) => f.accuracy),
      neighborhoodHit: frames.map((f) => f.neighborhoodHit),
      knnPreservation: frames.map((f) => f.knnPreservation),
      displacement: frames.map((f) => f.displacement),
    },
    sprite: input.sprite,
    ...(input.colors ? { colors: input.colors } : {}),
    ...(input.noun ? { noun: input.noun } : {}),
    ...(input.indexName ? { indexName: input.indexName } : {}),
    generated: new Date().toISOString(),
  };
}
