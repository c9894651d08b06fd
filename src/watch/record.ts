/**
 * The record of one frame, and the one list of its measures. TensorBoard's scalar tags, the
 * state file, the console and NDJSON report and the page's charts all derive from `MEASURES`:
 * adding a measure is one entry here plus its computation in the measure stage.
 */
import type { PageMeasure } from '../view/encode.ts';

/** How each measure of a frame is named where it is shown. */
export interface MeasureSpec {
  /** TensorBoard scalar tag of the watcher's event files. */
  tag: string;
  /** Its short name in the console line. */
  short: string;
  /** Digits in the console line. */
  digits: number;
  /** Its chart on the player page, or null when it has none. */
  chart: string | null;
}

/** In the order they are shown (console line, page charts). */
export const MEASURES = {
  neighborhoodHit: { tag: 'embeddings/neighborhood_hit', short: 'hit', digits: 3, chart: 'neighbourhood hit' },
  knnPreservation: { tag: 'embeddings/knn_preservation', short: 'knn', digits: 3, chart: '10-NN preservation' },
  displacement: { tag: 'embeddings/displacement', short: 'moved', digits: 3, chart: 'displacement' },
  klDivergence: { tag: 'embeddings/kl_divergence', short: 'KL', digits: 3, chart: null },
  frameSeconds: { tag: 'embeddings/frame_seconds', short: '', digits: 2, chart: null },
} as const satisfies Record<string, MeasureSpec>;

export type MeasureName = keyof typeof MEASURES;
export const MEASURE_NAMES = Object.keys(MEASURES) as MeasureName[];

/** The player page's charts, in order: the accuracy, then every measure that has a chart. */
export const PAGE_CHARTS: PageMeasure[] = [
  { key: 'accuracy', name: 'validation accuracy (test images)', format: 'percent' },
  ...MEASURE_NAMES.flatMap((key): PageMeasure[] => {
    const name: string | null = MEASURES[key].chart;
    return name === null ? [] : [{ key, name, format: 'decimal' }];
  }),
];

/** The frame's picture in TensorBoard (an image summary). */
export const IMAGE_TAG = 'embeddings/tsne';

/** Every tag the watcher writes for a frame: the image, then one scalar per measure. */
export const FRAME_TAGS: readonly string[] = [IMAGE_TAG, ...MEASURE_NAMES.map((name) => MEASURES[name].tag)];

export type FrameMeasures = Record<MeasureName, number>;

/** What the state file keeps of each frame (enough to rewrite a lost TensorBoard point). */
export interface FrameRecord extends FrameMeasures {
  step: number;
  /** The checkpoint's validation accuracy, or the accuracy on the plotted points when it had none. */
  accuracy: number | null;
  time: string;
}

/** The measures the stages compute; `frameSeconds` is the chain's own stopwatch. */
export type ComputedMeasures = Omit<FrameMeasures, 'frameSeconds'>;

export interface SkipRecord {
  step: number;
  reason: string;
  time: string;
}

/** The steps a chain is done with: drawn or skipped. */
export function handledSteps(record: { frames: readonly FrameRecord[]; skipped: readonly SkipRecord[] }): Set<number> {
  return new Set([...record.frames.map((f) => f.step), ...record.skipped.map((s) => s.step)]);
}

/** The highest step that became a frame or was skipped: nothing at or below it is done again. */
export function lastHandledStep(record: { frames: readonly FrameRecord[]; skipped: readonly SkipRecord[] }): number {
  let last = -1;
  for (const frame of record.frames) last = Math.max(last, frame.step);
  for (const skip of record.skipped) last = Math.max(last, skip.step);
  return last;
}
