// The view in the URL's hash, so a link or a reload brings it back: step, selection (compactly),
// pinned point, zoom (scale and the data point at the centre), colouring and the run compared
// beside this one (`compare=` its embeddings folder, relative to this page). Written with
// replaceState as things change (no history entry per change), read once the frames are in and
// whenever the hash is edited.
import { app, on, selection } from './state.js';
import { zoom, view, dataX, dataY, zoomAbout, resetZoom, screenX, screenY } from './geometry.js';
import { goTo } from './animation.js';
import { applySelection, selectedIndices } from './select.js';
import { pin } from './pointer.js';
import { setColouring } from './colourby.js';
import { startCompare, other } from './compare.js';

let timer = 0;
let applying = false;

function toBase64Url(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text) {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Sorted indices as varint gaps ('d…') or as a bit mask ('b…'), whichever is shorter. */
export function encodeSelection(indices, count) {
  const gaps = [];
  let previous = -1;
  for (const i of indices) {
    let gap = i - previous - 1;
    previous = i;
    while (gap >= 0x80) {
      gaps.push((gap & 0x7f) | 0x80);
      gap >>>= 7;
    }
    gaps.push(gap);
  }
  const maskBytes = Math.ceil(count / 8);
  if (gaps.length <= maskBytes) return 'd' + toBase64Url(Uint8Array.from(gaps));
  const mask = new Uint8Array(maskBytes);
  for (const i of indices) mask[i >> 3] |= 1 << (i & 7);
  return 'b' + toBase64Url(mask);
}

export function decodeSelection(text, count) {
  const bytes = fromBase64Url(text.slice(1));
  const out = [];
  if (text[0] === 'b') {
    for (let i = 0; i < count; i++) if (bytes[i >> 3] & (1 << (i & 7))) out.push(i);
    return out;
  }
  let previous = -1;
  for (let k = 0; k < bytes.length;) {
    let gap = 0;
    let shift = 0;
    while (k < bytes.length) {
      const b = bytes[k++];
      gap |= (b & 0x7f) << shift;
      shift += 7;
      if (!(b & 0x80)) break;
    }
    previous += gap + 1;
    if (previous < count) out.push(previous);
  }
  return out;
}

function stateText() {
  const parts = [];
  if (app.frames.length) parts.push('step=' + app.frames[app.frameIndex].step);
  if (selection.count > 0) parts.push('sel=' + encodeSelection(selectedIndices(), app.count));
  if (app.pinned >= 0) parts.push('pin=' + app.pinned);
  if (zoom.k !== 1) {
    const cx = dataX(view.width / 2);
    const cy = dataY(view.height / 2);
    parts.push('zoom=' + [zoom.k, cx, cy].map((v) => Number(v.toPrecision(6))).join(','));
  }
  if (other.path) parts.push('compare=' + encodeURIComponent(other.path));
  const mode = document.getElementById('colourBy').value;
  if (mode && mode !== 'class') parts.push('colour=' + encodeURIComponent(mode));
  return parts.join('&');
}

function scheduleWrite() {
  if (applying) return;
  clearTimeout(timer);
  timer = setTimeout(() => {
    // Not while playing: the step changes several times a second; the hash follows on pause.
    if (app.playing) {
      scheduleWrite();
      return;
    }
    const text = stateText();
    const url = location.pathname + location.search + (text ? '#' + text : '');
    history.replaceState(null, '', url);
  }, 300);
}

export function applyHash() {
  const fields = new Map();
  for (const part of location.hash.slice(1).split('&')) {
    const at = part.indexOf('=');
    if (at > 0) fields.set(part.slice(0, at), part.slice(at + 1));
  }
  applying = true;
  try {
    const step = Number(fields.get('step'));
    const k = app.frames.findIndex((f) => f.step === step);
    if (k >= 0) goTo(k, true);
    const sel = fields.get('sel');
    if (sel) applySelection(decodeSelection(sel, app.count), 'replace');
    const pinned = Number(fields.get('pin'));
    if (Number.isInteger(pinned) && pinned >= 0 && pinned < app.count) pin(pinned);
    const colour = fields.get('colour');
    if (colour) {
      const mode = decodeURIComponent(colour);
      if ([...document.getElementById('colourBy').options].some((o) => o.value === mode)) setColouring(mode);
    }
    const z = (fields.get('zoom') || '').split(',').map(Number);
    if (z.length === 3 && z.every(Number.isFinite)) {
      resetZoom();
      zoomAbout(view.width / 2, view.height / 2, z[0]);
      // Move the saved centre to the middle of the scatter.
      zoom.tx += view.width / 2 - screenX(z[1]);
      zoom.ty += view.height / 2 - screenY(z[2]);
    }
  } finally {
    applying = false;
  }
  const compare = fields.get('compare');
  if (compare && !other.path) void startCompare(decodeURIComponent(compare)).then(scheduleWrite);
  app.dirty = true;
}

export function installHash() {
  applyHash();
  for (const event of ['step', 'selection', 'pinned', 'zoom', 'colouring', 'compare']) on(event, scheduleWrite);
  window.addEventListener('hashchange', applyHash);
}
