// The scatter, drawn into pixels directly: one disc stamp (coverage per pixel, so edges stay
// smooth) blended per point, then a single putImageData. With a software canvas (no GPU) this is
// several times faster than 10,000 drawImage or arc calls. Trails and rings go on top.
import { app, $ } from './state.js';
import { view, screenX, screenY, dotRadius, transform } from './geometry.js';
import { paintPlan, cssColorOf, FADED, FULL, FADED_ALPHA } from './colour.js';

const BACKGROUND = [0xea, 0xea, 0xf2];
const canvas = $('scatter');
const ctx = canvas.getContext('2d', { alpha: false });
let stamp = null;
let image = null;
/** Extra drawing on top of the scatter (the lasso being drawn): functions of the 2D context. */
export const overlays = [];
/** Other scatters drawn whenever this one is (a run compared side by side). */
export const companions = [];

export function resizeCanvas() {
  const rect = canvas.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.max(1, Math.round(rect.width * dpr));
  canvas.height = Math.max(1, Math.round(rect.height * dpr));
  view.dpr = dpr;
  view.width = rect.width;
  view.height = rect.height;
  makeStamp();
}

export function makeStamp() {
  const r = dotRadius() * view.dpr;
  const size = Math.ceil(2 * r + 2) | 1;
  const centre = (size - 1) / 2;
  const dx = [];
  const dy = [];
  const coverage = [];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const covered = Math.min(1, Math.max(0, r + 0.5 - Math.hypot(x - centre, y - centre)));
      if (covered > 0) {
        dx.push(x - centre);
        dy.push(y - centre);
        coverage.push(covered);
      }
    }
  }
  // Weights in 1/256ths, per pass: integer blending, and a plain store where a pixel is covered.
  const weights = (alpha) => Int32Array.from(coverage, (c) => Math.round(c * alpha * 256));
  stamp = {
    dx: Int32Array.from(dx),
    dy: Int32Array.from(dy),
    weights: { [FADED]: weights(FADED_ALPHA), [FULL]: weights(1) },
    reach: (size + 1) / 2,
  };
}

export function draw(target = ctx) {
  const width = canvas.width;
  const height = canvas.height;
  target.setTransform(1, 0, 0, 1, 0, 0);
  if (!image || image.width !== width || image.height !== height) image = target.createImageData(width, height);
  const px = image.data;
  clearPixels(px);
  if (app.header && app.current && stamp) drawPoints(px, width, height);
  target.putImageData(image, 0, 0);
  target.setTransform(view.dpr, 0, 0, view.dpr, 0, 0);
  if (!app.header || app.frames.length === 0) return;
  for (const overlay of overlays) overlay(target);
  if (app.pinned >= 0) drawTrail(target, app.pinned);
  if (app.hovered >= 0) ring(target, app.hovered, '#262626');
  for (const companion of companions) companion();
}

function drawPoints(px, width, height) {
  blendPoints(px, width, height, app.current, paintPlan(), transform());
}

/**
 * The stamp of one pass as offsets into a canvas `width` pixels wide: pixels it covers wholly
 * (a plain store) and edge pixels with their weights (a blend).
 */
function stampOffsets(weight, width) {
  const { dx, dy } = stamp;
  const solid = [];
  const edge = [];
  const edgeWeight = [];
  for (let k = 0; k < weight.length; k++) {
    const offset = dy[k] * width + dx[k];
    if (weight[k] === 256) solid.push(offset);
    else {
      edge.push(offset);
      edgeWeight.push(weight[k]);
    }
  }
  return { solid: Int32Array.from(solid), edge: Int32Array.from(edge), edgeWeight: Int32Array.from(edgeWeight) };
}

/** words[at] + (colour − words[at])·w/256 per channel, floored: stays between the two. */
function blendWord(words, at, w, r, g, b) {
  const p = words[at];
  const pr = p & 0xff;
  const pg = (p >>> 8) & 0xff;
  const pb = (p >>> 16) & 0xff;
  words[at] =
    (0xff000000 |
      ((pb + (((b - pb) * w) >> 8)) << 16) |
      ((pg + (((g - pg) * w) >> 8)) << 8) |
      (pr + (((r - pr) * w) >> 8))) >>>
    0;
}

/**
 * Blends every point's disc into the RGBA pixels `px` (faded ones first); a point at (x, y) in
 * data units is drawn at (ax·x + bx, ay·y + by) CSS px. Pixels are read and written as one
 * 32-bit word each (little-endian RGBA, as every browser lays out ImageData on the platforms we
 * run on): 50,000 discs a frame is about a million pixel writes.
 */
export function blendPoints(px, width, height, positions, plan, { ax, bx, ay, by }) {
  const dpr = view.dpr;
  const { dx, dy, weights, reach } = stamp;
  const { rgb, layer, anyFaded } = plan;
  const words = new Uint32Array(px.buffer, px.byteOffset, px.length >> 2);
  const n = layer.length;
  const axd = ax * dpr;
  const bxd = bx * dpr;
  const ayd = ay * dpr;
  const byd = by * dpr;
  // Faded points first, so the ones in full colour lie on top.
  for (let pass = anyFaded ? FADED : FULL; pass <= FULL; pass++) {
    const weight = weights[pass];
    const { solid, edge, edgeWeight } = stampOffsets(weight, width);
    for (let i = 0; i < n; i++) {
      if (layer[i] !== pass) continue;
      const cx = Math.round(positions[2 * i] * axd + bxd);
      const cy = Math.round(positions[2 * i + 1] * ayd + byd);
      if (cx < -reach || cy < -reach || cx >= width + reach || cy >= height + reach) continue;
      const r = rgb[3 * i];
      const g = rgb[3 * i + 1];
      const b = rgb[3 * i + 2];
      // Wholly inside the canvas (nearly always): whole offsets, no bounds check per pixel.
      if (cx >= reach && cy >= reach && cx < width - reach && cy < height - reach) {
        const base = cy * width + cx;
        const opaque = (0xff000000 | (b << 16) | (g << 8) | r) >>> 0;
        for (let k = 0; k < solid.length; k++) words[base + solid[k]] = opaque;
        for (let k = 0; k < edge.length; k++) blendWord(words, base + edge[k], edgeWeight[k], r, g, b);
        continue;
      }
      for (let k = 0; k < weight.length; k++) {
        const x = cx + dx[k];
        const y = cy + dy[k];
        if (x >= 0 && y >= 0 && x < width && y < height) blendWord(words, y * width + x, weight[k], r, g, b);
      }
    }
  }
}

let background = null;

/** Fills the RGBA pixels `px` with the scatter's background (a copy of one filled buffer). */
export function clearPixels(px) {
  if (!background || background.length !== px.length) {
    background = new Uint8ClampedArray(px.length);
    for (let k = 0; k < px.length; k += 4) {
      background[k] = BACKGROUND[0];
      background[k + 1] = BACKGROUND[1];
      background[k + 2] = BACKGROUND[2];
      background[k + 3] = 255;
    }
  }
  px.set(background);
}

export function ring(target, i, color) {
  target.strokeStyle = color;
  target.lineWidth = 2;
  target.beginPath();
  target.arc(screenX(app.current[2 * i]), screenY(app.current[2 * i + 1]), dotRadius() + 4, 0, 2 * Math.PI);
  target.stroke();
}

export function trailPoints(i) {
  return app.frames.map((f) => [screenX(f.positions[2 * i]), screenY(f.positions[2 * i + 1])]);
}

function drawTrail(target, i) {
  const points = trailPoints(i);
  target.strokeStyle = 'rgba(38,38,38,0.8)';
  target.lineWidth = 1.5;
  target.beginPath();
  points.forEach(([x, y], k) => (k === 0 ? target.moveTo(x, y) : target.lineTo(x, y)));
  target.stroke();
  points.forEach(([x, y], k) => {
    target.fillStyle = k === app.frameIndex ? '#262626' : '#ffffff';
    target.strokeStyle = '#262626';
    target.lineWidth = 1;
    target.beginPath();
    target.arc(x, y, k === app.frameIndex ? 3.5 : 2.5, 0, 2 * Math.PI);
    target.fill();
    target.stroke();
  });
  ring(target, i, cssColorOf(i));
}
