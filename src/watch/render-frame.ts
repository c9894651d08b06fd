/** The render stage: a frame's scatter picture with its caption, and the in-between pictures leading to it. */
import {
  drawScatter,
  renderScatterFrame,
  tweenPositions,
  type RgbaImage,
  type ScatterOptions,
} from '../render/index.ts';
import type { PointSet } from './source.ts';

function formatStep(step: number): string {
  return step.toLocaleString('en-US');
}

/**
 * E.g. "step 3,200 · validation accuracy 34.6% · 1,000 test images". Checkpoints between two
 * validations carry no accuracy; then the accuracy of the checkpoint's own predictions on the
 * plotted images is shown, and said to be that.
 */
function caption(step: number, accuracy: number | null, measured: boolean, count: number, noun: string): string {
  const images = `${count.toLocaleString('en-US')} ${noun}`;
  const parts = [`step ${formatStep(step)}`];
  if (accuracy === null) parts.push(images);
  else if (measured) parts.push(`validation accuracy ${(100 * accuracy).toFixed(1)}%`, images);
  else parts.push(`accuracy ${(100 * accuracy).toFixed(1)}% on these ${images}`);
  return parts.join(' · ');
}

export interface FramePictures {
  png: Uint8Array;
  image: RgbaImage;
  tweens: RgbaImage[];
}

export async function renderFrame(input: {
  step: number;
  positions: Float64Array;
  points: PointSet;
  accuracy: number | null;
  measuredAccuracy: boolean;
  /** The previous frame and its step, for the in-between pictures; null for the first frame. */
  previous: { step: number; positions: Float64Array } | null;
  /** In-between pictures from the previous frame to this one (`--gif-tween`); 0 = none. */
  tweenCount: number;
  /** The positions are the user's own 2-D projection, not t-SNE's. */
  givenProjection?: boolean;
}): Promise<FramePictures> {
  const { step, positions, points, previous } = input;
  const scatter = (at: Float64Array, title: string): ScatterOptions => ({
    points: at,
    labels: points.labels,
    classNames: points.classNames,
    palette: points.palette,
    colorBar: points.colorBar,
    title: `${input.givenProjection ? '2-D embedding as logged' : 't-SNE embedding projection'} · ${title}`,
    caption: caption(step, input.accuracy, input.measuredAccuracy, points.count, points.noun ?? 'test images'),
  });
  // The frame first: its PNG is encoded on another thread while the in-between pictures are drawn.
  const picture = renderScatterFrame(scatter(positions, `step ${formatStep(step)}`));
  // Awaited below; this only keeps a failed encode from being unhandled if drawing throws first.
  picture.png.catch(() => undefined);
  const tweens: RgbaImage[] = [];
  if (previous) {
    const between = `step ${formatStep(previous.step)} → ${formatStep(step)}`;
    for (let k = 1; k <= input.tweenCount; k++) {
      tweens.push(drawScatter(scatter(tweenPositions(previous.positions, positions, k, input.tweenCount), between)));
    }
  }
  return { png: await picture.png, image: picture.image, tweens };
}
