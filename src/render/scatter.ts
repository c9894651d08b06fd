/**
 * The frame plot: the seed's seaborn scatter (muted palette, both axes fixed to [-3, 3], title
 * with the step) plus what it lacked: a legend with the class names and a caption with the
 * checkpoint's validation accuracy. 800 × 600 by default, drawn with @napi-rs/canvas (Skia).
 */
import { createCanvas, type Canvas, type SKRSContext2D } from '@napi-rs/canvas';
import type { RgbaImage } from '../tensorboard/summaries.ts';
import type { ColorBar } from './colors.ts';
import {
  AXES_FACE,
  CLASS_COLORS,
  FIGURE_BACKGROUND,
  LIGHT_GREY,
  TEXT_DARK,
  TEXT_MUTED,
  cssColor,
  type Rgb,
} from './palette.ts';

export interface ScatterOptions {
  /** Interleaved 2-D positions `[x0, y0, x1, y1, …]`, already normalised. */
  points: Float64Array;
  /** Each point's index into `palette` (CIFAR-10: its class, 0–9). */
  labels: Uint8Array;
  /** The legend's names, one per colour of `palette`. */
  classNames: readonly string[];
  /** The points' colours (default: the ten class colours). */
  palette?: readonly Rgb[];
  /** A colour bar instead of the legend, for a continuous scale (see colors.ts). */
  colorBar?: ColorBar;
  title: string;
  /** One line under the plot, e.g. the step and the validation accuracy. */
  caption?: string;
  width?: number;
  height?: number;
  /** Half-width of both axes; the seed fixed them to [-3, 3]. */
  limit?: number;
}

// Raw RGBA pixels: one type with the TensorBoard writer's `image()`, which takes them too.
export type { RgbaImage };

const FONT = '"DejaVu Sans", "Liberation Sans", Arial, sans-serif';

/** Where the axes sit on the figure, in pixels: a square of side `size` at (`left`, `top`). */
export interface Layout {
  left: number;
  top: number;
  size: number;
  legendX: number;
}

export function scatterLayout(width: number, height: number): Layout {
  const top = Math.round(height * 0.1);
  const bottom = Math.round(height * 0.13);
  const size = Math.min(height - top - bottom, Math.round(width * 0.66));
  const left = Math.round(width * 0.085);
  return { left, top, size, legendX: left + size + Math.round(width * 0.035) };
}

/**
 * The order points are drawn in: a fixed pseudo-random permutation, the same in every frame.
 * Drawing class by class would always bury class 0 under class 9.
 */
function drawOrder(n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let state = 0x9e3779b9;
  for (let i = n - 1; i > 0; i--) {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    const j = state % (i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

function drawFigure(ctx: SKRSContext2D, options: ScatterOptions, width: number, height: number): void {
  const { points, labels, classNames, title, caption } = options;
  const limit = options.limit ?? 3;
  const n = labels.length;
  if (points.length !== 2 * n) {
    throw new Error(`renderScatter: ${points.length / 2} points but ${n} labels`);
  }
  const { left, top, size, legendX } = scatterLayout(width, height);
  const scale = size / (2 * limit);
  const toX = (x: number) => left + (x + limit) * scale;
  const toY = (y: number) => top + (limit - y) * scale;
  const fontSize = Math.max(10, Math.round(height / 43));

  ctx.fillStyle = cssColor(FIGURE_BACKGROUND);
  ctx.fillRect(0, 0, width, height);

  // Axes face and grid, seaborn "darkgrid" style.
  ctx.fillStyle = cssColor(AXES_FACE);
  ctx.fillRect(left, top, size, size);
  ctx.strokeStyle = cssColor(FIGURE_BACKGROUND);
  ctx.lineWidth = 1.2;
  ctx.fillStyle = cssColor(TEXT_DARK);
  ctx.font = `${fontSize}px ${FONT}`;
  for (let tick = -limit; tick <= limit; tick++) {
    const x = Math.round(toX(tick)) + 0.5;
    const y = Math.round(toY(tick)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + size);
    ctx.moveTo(left, y);
    ctx.lineTo(left + size, y);
    ctx.stroke();
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.fillText(String(tick), x, top + size + 6);
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ctx.fillText(String(tick), left - 7, y);
  }

  // The points, clipped to the axes as the seed's fixed limits did.
  const radius = Math.max(1.4, Math.min(4, 3.2 * Math.sqrt(2000 / Math.max(n, 1))));
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, size, size);
  ctx.clip();
  ctx.lineWidth = Math.min(0.8, radius * 0.25);
  ctx.strokeStyle = cssColor(FIGURE_BACKGROUND);
  const fills = (options.palette ?? CLASS_COLORS).map(cssColor);
  for (const i of drawOrder(n)) {
    const x = points[2 * i]!;
    const y = points[2 * i + 1]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    ctx.beginPath();
    ctx.arc(toX(x), toY(y), radius, 0, 2 * Math.PI);
    ctx.fillStyle = fills[labels[i]! % fills.length]!;
    ctx.fill();
    ctx.stroke();
  }
  ctx.restore();

  // Title above, caption below the tick labels.
  ctx.fillStyle = cssColor(TEXT_DARK);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.font = `bold ${Math.round(fontSize * 1.3)}px ${FONT}`;
  ctx.fillText(title, left + size / 2, top / 2);
  if (caption) {
    ctx.fillStyle = cssColor(TEXT_MUTED);
    ctx.font = `${fontSize}px ${FONT}`;
    // Centred under the axes, but moved right when a long caption would run off the left edge.
    const half = Math.min(ctx.measureText(caption).width, width - 20) / 2;
    ctx.fillText(caption, Math.max(left + size / 2, 10 + half), top + size + fontSize * 2.9, width - 20);
  }

  if (options.colorBar) {
    drawColorBar(ctx, options.colorBar, legendX, top, size, fontSize, width);
    return;
  }
  // Legend: one marker and name per class, right of the axes; rows closer when there are many.
  const legendTop = top + Math.round(fontSize * 0.6);
  const rowHeight = Math.min(
    Math.round(fontSize * 1.9),
    Math.floor((height - legendTop - fontSize) / classNames.length),
  );
  ctx.strokeStyle = cssColor(LIGHT_GREY);
  ctx.lineWidth = 1;
  const legendWidth = Math.min(width - legendX - 10, Math.round(fontSize * 9.5));
  ctx.strokeRect(
    legendX + 0.5,
    legendTop - fontSize + 0.5,
    legendWidth,
    rowHeight * classNames.length + fontSize * 0.8,
  );
  ctx.font = `${fontSize}px ${FONT}`;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  classNames.forEach((name, k) => {
    const y = legendTop + k * rowHeight + rowHeight / 2 - fontSize / 2;
    ctx.beginPath();
    ctx.arc(legendX + fontSize, y, fontSize * 0.42, 0, 2 * Math.PI);
    ctx.fillStyle = fills[k % fills.length]!;
    ctx.fill();
    ctx.fillStyle = cssColor(TEXT_DARK);
    ctx.fillText(name, legendX + fontSize * 2, y);
  });
}

/** A vertical bar of the scale's colours, high at the top, with its name and both ends labelled. */
function drawColorBar(
  ctx: SKRSContext2D,
  bar: ColorBar,
  x: number,
  top: number,
  size: number,
  fontSize: number,
  width: number,
): void {
  const barWidth = Math.round(fontSize * 1.4);
  const barTop = top + fontSize * 2;
  const barHeight = size - fontSize * 4;
  const step = barHeight / bar.colors.length;
  bar.colors.forEach((color, k) => {
    ctx.fillStyle = cssColor(color);
    ctx.fillRect(x, barTop + barHeight - (k + 1) * step, barWidth, Math.ceil(step));
  });
  ctx.strokeStyle = cssColor(LIGHT_GREY);
  ctx.lineWidth = 1;
  ctx.strokeRect(x + 0.5, barTop + 0.5, barWidth, barHeight);
  ctx.fillStyle = cssColor(TEXT_DARK);
  ctx.font = `${fontSize}px ${FONT}`;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  const room = width - x - barWidth - fontSize;
  ctx.fillText(bar.title, x, top + fontSize * 0.8, width - x - 10);
  ctx.fillText(bar.high, x + barWidth + fontSize * 0.5, barTop, room);
  ctx.fillText(bar.low, x + barWidth + fontSize * 0.5, barTop + barHeight, room);
}

function draw(options: ScatterOptions) {
  const width = options.width ?? 800;
  const height = options.height ?? 600;
  const canvas = createCanvas(width, height);
  drawFigure(canvas.getContext('2d'), options, width, height);
  return canvas;
}

function pixelsOf(canvas: Canvas): RgbaImage {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  return {
    rgba: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: canvas.width,
    height: canvas.height,
  };
}

/** The frame as raw RGBA pixels (for the GIF, which needs palette indices, not a PNG). */
export function drawScatter(options: ScatterOptions): RgbaImage {
  return pixelsOf(draw(options));
}

/** The frame as a PNG file's bytes. */
export function renderScatter(options: ScatterOptions): Buffer {
  return draw(options).toBuffer('image/png');
}

/**
 * Both at once, drawing only once: what the watcher needs per frame. The pixels are ready at
 * once; the PNG is encoded off the main thread (Skia's encoder runs in libuv's pool), so the
 * caller can draw on while it is encoded.
 */
export function renderScatterFrame(options: ScatterOptions): { png: Promise<Buffer>; image: RgbaImage } {
  const canvas = draw(options);
  const image = pixelsOf(canvas);
  return { png: canvas.encode('png'), image };
}
