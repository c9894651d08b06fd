// What colour each point has and how strongly it shows: the paint plan the scatter is drawn
// from, rebuilt only when something it depends on changes (not on every animation frame).
import { app, COLORS, selection } from './state.js';

export const FADED_ALPHA = 0.13;
/** Layers: 0 hidden, 1 faded, 2 full colour (drawn last, on top). */
export const HIDDEN = 0;
export const FADED = 1;
export const FULL = 2;

function rgbOf(css) {
  const m = /(\d+)\D+(\d+)\D+(\d+)/.exec(css);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

export const CLASS_RGB = COLORS.map(rgbOf);

let plan = null;
let planKey = '';

function visibleClass(label) {
  return app.isolate < 0 || label === app.isolate;
}

/** Whether point i can be hovered or picked (an isolated class hides the others). */
export function pickable(i) {
  return visibleClass(app.labels[i]);
}

/** { rgb: Uint8Array(3n), layer: Uint8Array(n) } for the state now. */
export function paintPlan() {
  const key = [app.version, app.count, app.highlight, app.isolate, selection.version].join('|');
  if (plan && key === planKey) return plan;
  const n = app.count;
  const rgb = new Uint8Array(3 * n);
  const layer = new Uint8Array(n);
  const selected = selection.count > 0 ? selection.mask : null;
  for (let i = 0; i < n; i++) {
    const label = app.labels[i];
    const [r, g, b] = CLASS_RGB[label % CLASS_RGB.length];
    rgb[3 * i] = r;
    rgb[3 * i + 1] = g;
    rgb[3 * i + 2] = b;
    if (!visibleClass(label)) layer[i] = HIDDEN;
    else if (app.highlight >= 0 && label !== app.highlight) layer[i] = FADED;
    else if (selected && !selected[i]) layer[i] = FADED;
    else layer[i] = FULL;
  }
  plan = { rgb, layer, anyFaded: layer.includes(FADED) };
  planKey = key;
  return plan;
}

/** The CSS colour of point i (rings, cards). */
export function cssColorOf(i) {
  return COLORS[app.labels[i] % COLORS.length];
}
