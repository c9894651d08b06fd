// What colour each point has and how strongly it shows: the paint plan the scatter is drawn
// from, rebuilt only when something it depends on changes (not on every animation frame).
// Colour by: the true class (default), the class predicted at this step, right/wrong at this
// step, or a metadata column (a palette for up to 20 values, a colour bar for numbers beyond).
import { app, COLORS, selection } from './state.js';

export const FADED_ALPHA = 0.13;
/** Layers: 0 hidden, 1 faded, 2 full colour (drawn last, on top). */
export const HIDDEN = 0;
export const FADED = 1;
export const FULL = 2;
export const RIGHT_RGB = [0x3f, 0xa8, 0x4a];
export const WRONG_RGB = [0xd6, 0x3f, 0x3f];
const MAX_CATEGORIES = 20;
/** Viridis at five stops: a colour bar readable in grey too. */
const BAR_STOPS = [
  [0x44, 0x01, 0x54],
  [0x3b, 0x52, 0x8b],
  [0x21, 0x90, 0x8d],
  [0x5d, 0xc8, 0x63],
  [0xfd, 0xe7, 0x25],
];

function rgbOf(css) {
  const m = /(\d+)\D+(\d+)\D+(\d+)/.exec(css);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

export const CLASS_RGB = COLORS.map(rgbOf);
/** Twenty categories: the class colours, then darker versions of them. */
export const CATEGORY_RGB = [...CLASS_RGB, ...CLASS_RGB.map((c) => c.map((v) => Math.round(v * 0.6)))].slice(
  0,
  MAX_CATEGORIES,
);

export const colouring = { mode: 'class' };

export function cssOf(rgb) {
  return 'rgb(' + rgb[0] + ',' + rgb[1] + ',' + rgb[2] + ')';
}

export function barColour(t) {
  const x = Math.max(0, Math.min(1, t)) * (BAR_STOPS.length - 1);
  const k = Math.min(BAR_STOPS.length - 2, Math.floor(x));
  const f = x - k;
  return BAR_STOPS[k].map((v, c) => Math.round(v + (BAR_STOPS[k + 1][c] - v) * f));
}

export function hasPredictions() {
  return app.frames.some((f) => f.predictions);
}

export function metadataColumn(name) {
  const columns = (app.header && app.header.metadata && app.header.metadata.columns) || [];
  return columns.find((c) => c.name === name) || null;
}

/** A metadata column as categories (≤ 20 distinct values) or numbers (a colour bar). */
export function columnScale(column) {
  const distinct = [...new Set(column.values.map(String))];
  const numeric = column.values.every((v) => v !== '' && Number.isFinite(Number(v)));
  if (distinct.length <= MAX_CATEGORIES || !numeric) {
    const sorted = numeric ? distinct.sort((a, b) => Number(a) - Number(b)) : distinct.sort();
    return { kind: 'categories', values: sorted.slice(0, MAX_CATEGORIES) };
  }
  const numbers = column.values.map(Number);
  return { kind: 'bar', min: Math.min(...numbers), max: Math.max(...numbers) };
}

/** The predictions shown now: the frame moved to (or shown). */
export function predictionsNow() {
  const frame = app.frames[app.frameIndex];
  return frame ? frame.predictions : null;
}

function visibleClass(label) {
  return app.isolate < 0 || label === app.isolate;
}

/** Whether point i can be hovered or picked (an isolated class hides the others). */
export function pickable(i) {
  return visibleClass(app.labels[i]);
}

/** Point i's colour under the colouring now. */
function rgbFor(i, predictions, scale, column) {
  const label = app.labels[i];
  switch (colouring.mode) {
    case 'predicted':
      return predictions ? CLASS_RGB[predictions[i] % CLASS_RGB.length] : [0x99, 0x99, 0x99];
    case 'right':
      if (!predictions) return [0x99, 0x99, 0x99];
      return predictions[i] === label ? RIGHT_RGB : WRONG_RGB;
    default:
      if (column && scale) {
        const value = column.values[i];
        if (scale.kind === 'bar') return barColour((Number(value) - scale.min) / (scale.max - scale.min || 1));
        const k = scale.values.indexOf(String(value));
        return k < 0 ? [0x99, 0x99, 0x99] : CATEGORY_RGB[k];
      }
      return CLASS_RGB[label % CLASS_RGB.length];
  }
}

/** The last plan per slot ('main', or a run compared beside it), with the key it was made for. */
const plans = new Map();

/**
 * { rgb: Uint8Array(3n), layer: Uint8Array(n) } for the state now. A run compared beside this one
 * passes its own slot, its predictions at its own frame, and a key that names them.
 */
export function paintPlan(slot = 'main', ownPredictions = undefined, ownKey = '') {
  const perStep = colouring.mode === 'predicted' || colouring.mode === 'right';
  const key = [
    app.version,
    app.count,
    app.highlight,
    app.isolate,
    selection.version,
    colouring.mode,
    perStep ? app.frameIndex : -1,
    ownKey,
  ].join('|');
  const known = plans.get(slot);
  if (known && known.key === key) return known.plan;
  const n = app.count;
  const rgb = new Uint8Array(3 * n);
  const layer = new Uint8Array(n);
  const selected = selection.count > 0 ? selection.mask : null;
  const predictions = perStep ? (ownPredictions === undefined ? predictionsNow() : ownPredictions) : null;
  const column = colouring.mode.startsWith('meta:') ? metadataColumn(colouring.mode.slice(5)) : null;
  const scale = column ? columnScale(column) : null;
  for (let i = 0; i < n; i++) {
    const label = app.labels[i];
    const [r, g, b] = rgbFor(i, predictions, scale, column);
    rgb[3 * i] = r;
    rgb[3 * i + 1] = g;
    rgb[3 * i + 2] = b;
    if (!visibleClass(label)) layer[i] = HIDDEN;
    else if (app.highlight >= 0 && label !== app.highlight) layer[i] = FADED;
    else if (selected && !selected[i]) layer[i] = FADED;
    else layer[i] = FULL;
  }
  const plan = { rgb, layer, anyFaded: layer.includes(FADED), scale };
  plans.set(slot, { key, plan });
  return plan;
}

/** The CSS colour of point i (rings, cards). */
export function cssColorOf(i) {
  const { rgb } = paintPlan();
  return 'rgb(' + rgb[3 * i] + ',' + rgb[3 * i + 1] + ',' + rgb[3 * i + 2] + ')';
}
