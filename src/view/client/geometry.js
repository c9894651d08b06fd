// Data units → CSS pixels inside the scatter canvas: the same scale on both axes, fitted to the
// box around every frame, then the user's zoom (k, tx, ty) on top.
import { app } from './state.js';

export const view = { dpr: 1, width: 0, height: 0, scale: 1, offsetX: 0, offsetY: 0 };
export const zoom = { k: 1, tx: 0, ty: 0 };
const MARGIN = 14;

export function fitView() {
  const box = app.extent;
  if (!box) return;
  const spanX = Math.max(box.maxX - box.minX, 1e-9);
  const spanY = Math.max(box.maxY - box.minY, 1e-9);
  const scale = Math.min((view.width - 2 * MARGIN) / spanX, (view.height - 2 * MARGIN) / spanY);
  view.scale = scale;
  view.offsetX = (view.width - spanX * scale) / 2 - box.minX * scale;
  // y grows upwards in the data, downwards on screen.
  view.offsetY = (view.height + spanY * scale) / 2 + box.minY * scale;
}

export function screenX(x) {
  return zoom.k * (view.offsetX + x * view.scale) + zoom.tx;
}

export function screenY(y) {
  return zoom.k * (view.offsetY - y * view.scale) + zoom.ty;
}

/** screenX / screenY as coefficients: x ↦ ax·x + bx, y ↦ ay·y + by (for loops over every point). */
export function transform() {
  return {
    ax: zoom.k * view.scale,
    bx: zoom.k * view.offsetX + zoom.tx,
    ay: -zoom.k * view.scale,
    by: zoom.k * view.offsetY + zoom.ty,
  };
}

/** Screen (CSS px) → data units: the inverse of screenX / screenY. */
export function dataX(px) {
  return ((px - zoom.tx) / zoom.k - view.offsetX) / view.scale;
}

export function dataY(py) {
  return (view.offsetY - (py - zoom.ty) / zoom.k) / view.scale;
}

export function dotRadius() {
  const n = app.count || 1;
  return n > 5000 ? 2 : n > 1500 ? 2.6 : 3.4;
}

/** Zooms by `factor` about the screen point (px, py), within 1× to 64×. */
export function zoomAbout(px, py, factor) {
  const k = Math.min(64, Math.max(1, zoom.k * factor));
  const f = k / zoom.k;
  zoom.tx = px - (px - zoom.tx) * f;
  zoom.ty = py - (py - zoom.ty) * f;
  zoom.k = k;
  if (k === 1) resetZoom();
}

export function panBy(dx, dy) {
  if (zoom.k === 1) return;
  zoom.tx += dx;
  zoom.ty += dy;
}

export function resetZoom() {
  zoom.k = 1;
  zoom.tx = 0;
  zoom.ty = 0;
}
