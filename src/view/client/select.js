// The selection: a set of points (not of positions), so it stays as the frames play. Made by a
// lasso or a box on the scatter, by class from the legend, or by search; shift adds to it, alt
// takes away. Selected points keep their colour, the rest fade.
import { app, emit, selection } from './state.js';
import { transform } from './geometry.js';
import { pickable } from './colour.js';

export function resetSelection() {
  selection.mask = new Uint8Array(app.count);
  selection.count = 0;
  selection.version++;
  emit('selection');
}

/** 'replace', 'add' or 'remove', as the modifier keys of `event` say. */
export function modeOf(event) {
  if (event && event.altKey) return 'remove';
  if (event && event.shiftKey) return 'add';
  return 'replace';
}

/** Applies `indices` (an iterable of point indices) to the selection in `mode`. */
export function applySelection(indices, mode) {
  const mask = selection.mask;
  if (mode === 'replace') mask.fill(0);
  const value = mode === 'remove' ? 0 : 1;
  for (const i of indices) mask[i] = value;
  let count = 0;
  for (let i = 0; i < mask.length; i++) count += mask[i];
  selection.count = count;
  selection.version++;
  emit('selection');
}

export function selectedIndices() {
  const out = [];
  const mask = selection.mask;
  if (!mask) return out;
  for (let i = 0; i < mask.length; i++) if (mask[i]) out.push(i);
  return out;
}

/**
 * The points whose position (`positions`, drawn with the transform `t`) lies inside `polygon`
 * ([[x, y], …] CSS px), even-odd rule; this run's scatter as it is now by default.
 */
export function pointsInPolygon(polygon, positions = app.current, t = transform()) {
  if (polygon.length < 3) return [];
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  const xs = new Float64Array(polygon.length);
  const ys = new Float64Array(polygon.length);
  polygon.forEach(([x, y], k) => {
    xs[k] = x;
    ys[k] = y;
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  });
  const inside = [];
  const m = polygon.length;
  for (let i = 0; i < app.count; i++) {
    if (!pickable(i)) continue;
    const x = t.ax * positions[2 * i] + t.bx;
    const y = t.ay * positions[2 * i + 1] + t.by;
    if (x < minX || x > maxX || y < minY || y > maxY) continue;
    let odd = false;
    for (let a = 0, b = m - 1; a < m; b = a++) {
      if (ys[a] > y !== ys[b] > y && x < ((xs[b] - xs[a]) * (y - ys[a])) / (ys[b] - ys[a]) + xs[a]) odd = !odd;
    }
    if (odd) inside.push(i);
  }
  return inside;
}

export function pointsOfClass(label) {
  const out = [];
  for (let i = 0; i < app.count; i++) if (app.labels[i] === label) out.push(i);
  return out;
}

/**
 * The points a search names: a class name; test image numbers (`#12`, `12 40`, `100-120`); a
 * metadata value (`column=value`, or a value of any column).
 */
export function pointsMatching(query) {
  const text = query.trim().toLowerCase();
  if (!text) return [];
  const classIndex = app.header.classNames.findIndex((name) => name.toLowerCase() === text);
  if (classIndex >= 0) return pointsOfClass(classIndex);
  if (/^[#\d\s,-]+$/.test(text)) {
    const wanted = new Set();
    for (const part of text.replace(/#/g, ' ').split(/[\s,]+/)) {
      const range = /^(\d+)-(\d+)$/.exec(part);
      if (range) for (let v = Number(range[1]); v <= Number(range[2]) && v - Number(range[1]) < 1e6; v++) wanted.add(v);
      else if (/^\d+$/.test(part)) wanted.add(Number(part));
    }
    const out = [];
    for (let i = 0; i < app.count; i++) if (wanted.has(app.testIndices[i])) out.push(i);
    return out;
  }
  const columns = (app.header.metadata && app.header.metadata.columns) || [];
  const eq = /^([^=]+)=(.*)$/.exec(text);
  const out = [];
  for (const column of columns) {
    if (eq && column.name.toLowerCase() !== eq[1].trim()) continue;
    const value = eq ? eq[2].trim() : text;
    column.values.forEach((v, i) => {
      if (String(v).toLowerCase() === value) out.push(i);
    });
  }
  return out;
}
