// Hover and pin: the point nearest the pointer shows its card (class, test image, thumbnail from
// the projector sprite); a click pins it, which draws its path over every step.
import { app, $, emit } from './state.js';
import { screenX, screenY, dotRadius } from './geometry.js';
import { pickable, cssColorOf } from './colour.js';

/** Thumbnails are shown at twice the sprite's tile size, pixelated. */
export const THUMB_SCALE = 2;
const canvas = $('scatter');
const card = $('card');
const thumb = $('thumb');

export function nearestPoint(px, py) {
  if (!app.header || app.frames.length === 0) return -1;
  const current = app.current;
  let best = -1;
  let bestDistance = Math.max(8, dotRadius() + 4) ** 2;
  for (let i = 0; i < app.count; i++) {
    if (!pickable(i)) continue;
    const dx = screenX(current[2 * i]) - px;
    const dy = screenY(current[2 * i + 1]) - py;
    const d = dx * dx + dy * dy;
    if (d < bestDistance) {
      bestDistance = d;
      best = i;
    }
  }
  return best;
}

/** Styles `element` as point i's thumbnail, `size` px square (a window on the sprite); false without a sprite. */
export function showThumbnail(element, i, size) {
  const sprite = app.header.sprite;
  if (!sprite) return false;
  size = size || sprite.tile * THUMB_SCALE;
  const col = i % sprite.side;
  const row = Math.floor(i / sprite.side);
  element.style.backgroundImage = 'url("' + sprite.src + '")';
  element.style.backgroundSize = sprite.side * size + 'px ' + sprite.side * size + 'px';
  element.style.backgroundPosition = -col * size + 'px ' + -row * size + 'px';
  element.style.width = size + 'px';
  element.style.height = size + 'px';
  return true;
}

export function className(label) {
  return app.header.classNames[label] || String(label);
}

/** What point i is in its data: `test image #123`, or `row #123` for a user's metadata. */
export function sourceIndex(i) {
  return (app.header.indexName || 'test image') + ' #' + app.testIndices[i];
}

export function showCard(i, px, py) {
  if (i < 0) {
    card.classList.remove('shown');
    return;
  }
  const label = app.labels[i];
  card.querySelector('.cls').textContent = className(label);
  card.querySelector('.cls').style.color = cssColorOf(i);
  card.querySelector('.idx').textContent = sourceIndex(i);
  card.querySelector('.pt').textContent = 'point ' + i;
  thumb.style.display = showThumbnail(thumb, i) ? '' : 'none';
  card.classList.add('shown');
  const stage = canvas.getBoundingClientRect();
  const left = px + 16 + 200 > stage.width ? px - 16 - card.offsetWidth : px + 16;
  card.style.left = left + 'px';
  card.style.top = Math.max(0, Math.min(stage.height - card.offsetHeight, py - 20)) + 'px';
}

export function pointerPosition(event) {
  const rect = canvas.getBoundingClientRect();
  return [event.clientX - rect.left, event.clientY - rect.top];
}

export function hoverAt(px, py) {
  const i = nearestPoint(px, py);
  if (i !== app.hovered) app.dirty = true;
  app.hovered = i;
  showCard(i, px, py);
}

export function clearHover() {
  app.hovered = -1;
  showCard(-1);
  app.dirty = true;
}

export function pin(i) {
  app.pinned = i;
  updatePinned();
  emit('pinned');
}

export function updatePinned() {
  const el = $('pinned');
  const i = app.pinned;
  if (i < 0 || !app.header) {
    el.textContent = 'Click a point to pin it and draw its path over all steps.';
    return;
  }
  el.textContent = `Pinned: point ${i} (${className(app.labels[i])}, ${sourceIndex(i)}); click it again to unpin.`;
}

export function installPointer() {
  canvas.addEventListener('mouseleave', clearHover);
}
