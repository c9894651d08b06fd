// A second run side by side, when it shows the same points (same count, labels and test images):
// its frames are loaded from its own page data (page/header.js and the chunks), it moves with
// this page's slider (its frame nearest in images seen), and hover, pin, selection, colouring
// and zoom are shared: a point is the same test image in both.
import { app, $, on, emit } from './state.js';
import { zoom, dotRadius } from './geometry.js';
import { ease } from './animation.js';
import { blendPoints, clearPixels, companions } from './draw.js';
import { paintPlan, cssColorOf } from './colour.js';
import { mergeChunk, imagesSeen } from './data.js';
import { loadOtherRun } from './live.js';
import { installPane, drawDrag, dragging } from './gestures.js';
import { pointsInPolygon } from './select.js';
import { showCard } from './pointer.js';

const canvas = $('scatterB');
const ctx = canvas.getContext('2d', { alpha: false });
const MARGIN = 14;
export const other = {
  path: null,
  header: null,
  frames: [],
  extent: null,
  current: null,
  frameIndex: 0,
  transition: null,
};
const viewB = { dpr: 1, width: 0, height: 0, scale: 1, offsetX: 0, offsetY: 0 };
let image = null;

export function comparing() {
  return other.header !== null && other.frames.length > 0;
}

function fitB() {
  const rect = canvas.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.max(1, Math.round(rect.width * dpr));
  canvas.height = Math.max(1, Math.round(rect.height * dpr));
  Object.assign(viewB, { dpr, width: rect.width, height: rect.height });
  const box = other.extent;
  if (!box) return;
  const spanX = Math.max(box.maxX - box.minX, 1e-9);
  const spanY = Math.max(box.maxY - box.minY, 1e-9);
  viewB.scale = Math.min((viewB.width - 2 * MARGIN) / spanX, (viewB.height - 2 * MARGIN) / spanY);
  viewB.offsetX = (viewB.width - spanX * viewB.scale) / 2 - box.minX * viewB.scale;
  viewB.offsetY = (viewB.height + spanY * viewB.scale) / 2 + box.minY * viewB.scale;
}

function transformB() {
  return {
    ax: zoom.k * viewB.scale,
    bx: zoom.k * viewB.offsetX + zoom.tx,
    ay: -zoom.k * viewB.scale,
    by: zoom.k * viewB.offsetY + zoom.ty,
  };
}

export function bx(x) {
  return zoom.k * (viewB.offsetX + x * viewB.scale) + zoom.tx;
}

export function by(y) {
  return zoom.k * (viewB.offsetY - y * viewB.scale) + zoom.ty;
}

/** The compared run's frame nearest to this page's frame in images seen. */
function matchingIndex() {
  const frame = app.frames[app.frameIndex];
  if (!frame) return 0;
  const seen = imagesSeen(frame);
  let best = 0;
  other.frames.forEach((f, k) => {
    if (Math.abs(imagesSeen(f) - seen) < Math.abs(imagesSeen(other.frames[best]) - seen)) best = k;
  });
  return best;
}

function follow() {
  if (!comparing()) return;
  const k = matchingIndex();
  const target = other.frames[k].positions;
  if (app.transition) {
    other.transition = { from: Float32Array.from(other.current), to: k, start: app.transition.start };
  } else {
    other.current.set(target);
    other.transition = null;
  }
  other.frameIndex = k;
  const label = (run, frame) => run + ' · step ' + frame.step.toLocaleString('en-US');
  $('compareA').textContent = label(app.header.run, app.frames[app.frameIndex]);
  $('compareB').textContent = label(other.header.run, other.frames[k]);
}

function drawB() {
  if (!comparing()) return;
  if (other.transition) {
    const duration = app.transition ? app.transition.duration : 1;
    const t = app.transition ? Math.min(1, (performance.now() - other.transition.start) / duration) : 1;
    const e = ease(t);
    const from = other.transition.from;
    const target = other.frames[other.transition.to].positions;
    for (let i = 0; i < other.current.length; i++) other.current[i] = from[i] + (target[i] - from[i]) * e;
    if (t >= 1) other.transition = null;
  }
  const width = canvas.width;
  const height = canvas.height;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  if (!image || image.width !== width || image.height !== height) image = ctx.createImageData(width, height);
  clearPixels(image.data);
  const frame = other.frames[other.frameIndex];
  const plan = paintPlan('compare', frame.predictions, 'b' + other.frameIndex);
  blendPoints(image.data, width, height, other.current, plan, transformB());
  ctx.putImageData(image, 0, 0);
  ctx.setTransform(viewB.dpr, 0, 0, viewB.dpr, 0, 0);
  drawDrag(ctx, pane);
  if (app.pinned >= 0) drawTrailB(app.pinned);
  if (app.hovered >= 0) ringB(app.hovered, '#262626');
}

function ringB(i, color) {
  ctx.strokeStyle = color;
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.arc(bx(other.current[2 * i]), by(other.current[2 * i + 1]), dotRadius() + 4, 0, 2 * Math.PI);
  ctx.stroke();
}

function drawTrailB(i) {
  ctx.strokeStyle = 'rgba(38,38,38,0.8)';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  other.frames.forEach((f, k) => {
    const x = bx(f.positions[2 * i]);
    const y = by(f.positions[2 * i + 1]);
    if (k === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
  ringB(i, cssColorOf(i));
}

function nearestB(px, py) {
  let best = -1;
  let bestDistance = Math.max(8, dotRadius() + 4) ** 2;
  for (let i = 0; i < app.count; i++) {
    const d = (bx(other.current[2 * i]) - px) ** 2 + (by(other.current[2 * i + 1]) - py) ** 2;
    if (d < bestDistance) {
      bestDistance = d;
      best = i;
    }
  }
  return best;
}

function positionIn(event) {
  const rect = canvas.getBoundingClientRect();
  return [event.clientX - rect.left, event.clientY - rect.top];
}

const pane = {
  canvas,
  position: positionIn,
  nearest: (px, py) => nearestB(px, py),
  pick: (polygon) => pointsInPolygon(polygon, other.current, transformB()),
};

/** Opens the run whose embeddings folder is `path` (relative to this page) beside this one. */
export async function startCompare(path) {
  const note = $('compareNote');
  other.path = path;
  const store = { frames: [], extent: null };
  const header = await loadOtherRun(path, (chunk) => {
    mergeChunk(store, chunk);
    other.frames = store.frames;
    other.extent = store.extent;
  });
  if (!header || header.count !== app.count || header.labels !== app.header.labels) {
    note.textContent = header
      ? 'Cannot compare with ' + header.run + ': it shows other points.'
      : 'No timelapse data at ' + path + '.';
    note.hidden = false;
    other.path = null;
    return false;
  }
  other.header = header;
  other.current = new Float32Array(2 * app.count);
  $('stage').classList.add('compare');
  window.dispatchEvent(new Event('resize'));
  fitB();
  follow();
  emit('compare');
  return true;
}

export function installCompare() {
  companions.push(drawB);
  on('step', follow);
  on('resize', () => comparing() && fitB());
  canvas.addEventListener('mousemove', (event) => {
    if (dragging()) return;
    const [px, py] = positionIn(event);
    const i = nearestB(px, py);
    if (i !== app.hovered) app.dirty = true;
    app.hovered = i;
    showCard(i, px + canvas.offsetLeft, py);
  });
  canvas.addEventListener('mouseleave', () => {
    app.hovered = -1;
    showCard(-1);
    app.dirty = true;
  });
  installPane(pane);
}
