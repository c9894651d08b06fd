// The selection panel: how many, of which classes, how the group's spread and neighbourhood hit
// evolve over the steps, and its thumbnails. The thumbnail grid is virtualised (only the rows in
// view exist), so thousands of selected points cost what a screenful does. A click on a
// thumbnail pins that point and draws its trail.
import { app, $, COLORS, on, selection } from './state.js';
import { selectedIndices, resetSelection } from './select.js';
import { showThumbnail, pin, className, sourceIndex } from './pointer.js';
import { drawSeries } from './charts.js';
import { groupMeasures } from './neighbours.js';
import { downloadCsv, copyIndices } from './export.js';

const GAP = 3;
const BUDGET_MS = 8;
let members = [];
let measures = { version: -1, frames: 0, spread: [], hit: [], next: 0 };
let pool = [];

function cellSize() {
  const sprite = app.header && app.header.sprite;
  return (sprite ? sprite.tile : 32) + GAP;
}

function renderThumbnails() {
  const box = $('thumbs');
  const inner = $('thumbsInner');
  const cell = cellSize();
  const cols = Math.max(1, Math.floor((box.clientWidth - GAP) / cell));
  const rows = Math.ceil(members.length / cols);
  inner.style.height = rows * cell + 'px';
  const firstRow = Math.floor(box.scrollTop / cell);
  const lastRow = Math.min(rows, Math.ceil((box.scrollTop + box.clientHeight) / cell) + 1);
  const wanted = [];
  for (let r = firstRow; r < lastRow; r++)
    for (let c = 0; c < cols; c++) if (r * cols + c < members.length) wanted.push([r, c]);
  while (pool.length < wanted.length) {
    const el = document.createElement('div');
    el.className = 'thumb';
    el.addEventListener('click', () => pin(Number(el.dataset.point)));
    el.addEventListener('mouseenter', () => {
      app.hovered = Number(el.dataset.point);
      app.dirty = true;
    });
    el.addEventListener('mouseleave', () => {
      app.hovered = -1;
      app.dirty = true;
    });
    inner.append(el);
    pool.push(el);
  }
  pool.forEach((el, k) => {
    if (k >= wanted.length) {
      el.style.display = 'none';
      return;
    }
    const [r, c] = wanted[k];
    const i = members[r * cols + c];
    el.style.display = '';
    el.dataset.point = String(i);
    el.title = className(app.labels[i]) + ' · ' + sourceIndex(i) + ' · point ' + i;
    el.style.left = GAP + c * cell + 'px';
    el.style.top = r * cell + 'px';
    el.style.borderColor = COLORS[app.labels[i] % COLORS.length];
    el.textContent = showThumbnail(el, i, cell - GAP) ? '' : String(i);
  });
}

function renderClasses() {
  const counts = new Map();
  for (const i of members) counts.set(app.labels[i], (counts.get(app.labels[i]) || 0) + 1);
  const holder = $('selClasses');
  holder.textContent = '';
  [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .forEach(([label, count]) => {
      const row = document.createElement('div');
      row.className = 'count';
      row.dataset.class = String(label);
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.background = COLORS[label % COLORS.length];
      bar.style.width = Math.max(2, (120 * count) / members.length) + 'px';
      row.append(bar, document.createTextNode(className(label) + ' ' + count));
      holder.append(row);
    });
}

/** Works through the frames a few milliseconds at a time, so opening the panel never stalls. */
function computeMeasures() {
  const version = selection.version;
  if (measures.version !== version || measures.frames > app.frames.length) {
    measures = { version, frames: app.frames.length, spread: [], hit: [], next: 0 };
  }
  measures.frames = app.frames.length;
  const started = performance.now();
  while (measures.next < app.frames.length && performance.now() - started < BUDGET_MS) {
    const k = measures.next++;
    const m = groupMeasures(app.frames[k].positions, app.count, app.labels, members);
    measures.spread[k] = m.spread;
    measures.hit[k] = m.hit;
  }
  drawMeasures();
  if (measures.next < app.frames.length) setTimeout(() => version === selection.version && computeMeasures(), 0);
}

function drawMeasures() {
  const fill = (values) => app.frames.map((_, k) => (values[k] === undefined ? null : values[k]));
  const spread = fill(measures.spread);
  const hit = fill(measures.hit);
  drawSeries($('selSpread'), spread, '#6acc64');
  drawSeries($('selHit'), hit, '#956cb4');
  const now = app.frameIndex;
  $('selSpreadValue').textContent = spread[now] === null ? '…' : spread[now].toFixed(2);
  $('selHitValue').textContent = hit[now] === null ? '…' : hit[now].toFixed(3);
}

/** Whether the selection's measures over the steps are still being worked out. */
export function measuresPending() {
  return !$('selection').hidden && measures.next < app.frames.length;
}

export function renderPanel() {
  const panel = $('selection');
  members = selectedIndices();
  panel.hidden = members.length === 0;
  if (members.length === 0) return;
  $('selCount').textContent = members.length.toLocaleString('en-US') + ' selected';
  renderClasses();
  renderThumbnails();
  if (measures.version !== selection.version) {
    measures = { version: selection.version, frames: app.frames.length, spread: [], hit: [], next: 0 };
  }
  drawMeasures();
  // After the panel is painted: the measures over the steps come in a few milliseconds at a time.
  setTimeout(computeMeasures, 0);
}

export function installPanel() {
  on('selection', renderPanel);
  on('header', resetSelection);
  on('frames', () => !$('selection').hidden && computeMeasures());
  on('step', () => !$('selection').hidden && drawMeasures());
  $('thumbs').addEventListener('scroll', renderThumbnails);
  $('selClear').addEventListener('click', () => resetSelection());
  $('selCsv').addEventListener('click', () => downloadCsv(members));
  $('selCopy').addEventListener('click', () => void copyIndices(members));
}
