// What the pointer does on a scatter (this run's, or the run compared beside it: a "pane"): a
// click pins the nearest point; a drag draws a lasso or a box (the tool chosen above the scatter;
// shift adds, alt takes away) or pans (the pan tool, or the middle button); the wheel, a trackpad
// pinch or two fingers zoom about the pointer. Zoom and selection are shared by both panes.
import { app, $, emit } from './state.js';
import { zoomAbout, panBy, resetZoom } from './geometry.js';
import { overlays } from './draw.js';
import { applySelection, modeOf, pointsInPolygon } from './select.js';
import { nearestPoint, pin, pointerPosition, clearHover } from './pointer.js';

const DRAG_PX = 4;
let tool = 'lasso';
let drag = null;
let suppressClick = false;
/** Touch points down now (pointerId → [x, y]), for a two-finger pinch. */
const touches = new Map();
let pinch = null;

export function dragging() {
  return drag !== null && drag.moved;
}

export function setTool(name) {
  tool = name;
  for (const button of document.querySelectorAll('#tools button')) {
    button.classList.toggle('on', button.dataset.tool === name);
    button.setAttribute('aria-pressed', String(button.dataset.tool === name));
  }
}

function zoomed() {
  emit('zoom');
}

/** Draws the lasso or box being dragged on `pane`, if it is being dragged there. */
export function drawDrag(ctx, pane) {
  if (!drag || !drag.moved || drag.kind === 'pan' || drag.pane !== pane) return;
  ctx.save();
  ctx.strokeStyle = '#262626';
  ctx.fillStyle = 'rgba(72,120,208,0.10)';
  ctx.lineWidth = 1;
  ctx.setLineDash([4, 3]);
  ctx.beginPath();
  if (drag.kind === 'box') {
    const [x0, y0] = drag.start;
    const [x1, y1] = drag.end;
    ctx.rect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
  } else {
    drag.points.forEach(([x, y], k) => (k === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
    ctx.closePath();
  }
  ctx.fill();
  ctx.stroke();
  ctx.restore();
}

function pinchState() {
  const [a, b] = [...touches.values()];
  return { distance: Math.hypot(a[0] - b[0], a[1] - b[1]) || 1, mid: [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2] };
}

function onDown(pane, event) {
  const at = pane.position(event);
  if (event.pointerType === 'touch') {
    touches.set(event.pointerId, at);
    if (touches.size === 2) {
      drag = null;
      pinch = pinchState();
      return;
    }
  }
  if (event.button !== 0 && event.button !== 1) return;
  const kind = event.button === 1 ? 'pan' : tool;
  drag = { pane, kind, start: at, end: at, last: at, points: [at], moved: false };
  try {
    pane.canvas.setPointerCapture(event.pointerId);
  } catch {
    // A pointer the browser does not track (a synthetic event): the drag works without capture.
  }
}

function onMove(pane, event) {
  const at = pane.position(event);
  if (event.pointerType === 'touch' && touches.has(event.pointerId)) {
    touches.set(event.pointerId, at);
    if (pinch && touches.size === 2) {
      const next = pinchState();
      panBy(next.mid[0] - pinch.mid[0], next.mid[1] - pinch.mid[1]);
      zoomAbout(next.mid[0], next.mid[1], next.distance / pinch.distance);
      pinch = next;
      zoomed();
      return;
    }
  }
  if (!drag || drag.pane !== pane) return;
  if (!drag.moved && Math.hypot(at[0] - drag.start[0], at[1] - drag.start[1]) < DRAG_PX) return;
  if (!drag.moved) clearHover();
  drag.moved = true;
  if (drag.kind === 'pan') {
    panBy(at[0] - drag.last[0], at[1] - drag.last[1]);
    zoomed();
  } else if (drag.kind === 'box') drag.end = at;
  else drag.points.push(at);
  drag.last = at;
  app.dirty = true;
}

function onUp(event) {
  touches.delete(event.pointerId);
  if (touches.size < 2) pinch = null;
  if (!drag) return;
  const finished = drag;
  drag = null;
  app.dirty = true;
  if (!finished.moved) return;
  suppressClick = true;
  if (finished.kind === 'lasso') applySelection(finished.pane.pick(finished.points), modeOf(event));
  else if (finished.kind === 'box') {
    const [x0, y0] = finished.start;
    const [x1, y1] = finished.end;
    const box = [
      [x0, y0],
      [x1, y0],
      [x1, y1],
      [x0, y1],
    ];
    applySelection(finished.pane.pick(box), modeOf(event));
  }
}

/**
 * Lets the pointer work on `pane`: { canvas, position(event) → [x, y] CSS px in it, nearest(x, y)
 * → point or -1, pick(polygon) → the points inside }.
 */
export function installPane(pane) {
  const { canvas } = pane;
  canvas.style.touchAction = 'none';
  canvas.addEventListener('pointerdown', (event) => onDown(pane, event));
  canvas.addEventListener('pointermove', (event) => onMove(pane, event));
  canvas.addEventListener('pointerup', onUp);
  canvas.addEventListener('pointercancel', onUp);
  canvas.addEventListener('click', (event) => {
    if (suppressClick) {
      suppressClick = false;
      return;
    }
    const i = pane.nearest(...pane.position(event));
    pin(i === app.pinned ? -1 : i);
  });
  canvas.addEventListener(
    'wheel',
    (event) => {
      event.preventDefault();
      const [px, py] = pane.position(event);
      // A trackpad pinch arrives as a wheel event with ctrlKey, in finer steps.
      const factor = Math.exp(-event.deltaY * (event.ctrlKey ? 0.01 : 0.0015));
      zoomAbout(px, py, factor);
      zoomed();
    },
    { passive: false },
  );
}

export function installGestures() {
  const main = {
    canvas: $('scatter'),
    position: pointerPosition,
    nearest: nearestPoint,
    pick: (polygon) => pointsInPolygon(polygon),
  };
  overlays.push((ctx) => drawDrag(ctx, main));
  installPane(main);
  for (const button of document.querySelectorAll('#tools button'))
    button.addEventListener('click', () => setTool(button.dataset.tool));
  $('resetZoom').addEventListener('click', () => {
    resetZoom();
    zoomed();
  });
  setTool(tool);
}
