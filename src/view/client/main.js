// The timelapse player: bundled into timelapse.html by src/view/bundle.ts. It reads its header
// from the <script id="timelapse-data"> block and its frames from the chunk files beside it.
import { app, $, on, emit } from './state.js';
import { fitView } from './geometry.js';
import { goTo, setPlaying, stepTransition, advancePlayback, resetHold } from './animation.js';
import { draw, resizeCanvas } from './draw.js';
import { hoverAt, pointerPosition, updatePinned, installPointer } from './pointer.js';
import { installGestures, dragging } from './gestures.js';
import { installPanel, measuresPending } from './panel.js';
import { applySelection, modeOf, pointsMatching, resetSelection, selectedIndices } from './select.js';
import { installColourBy } from './colourby.js';
import { installHash } from './hash.js';
import { installRecord } from './record.js';
import { installCompare, comparing, other, bx, by } from './compare.js';
import { buildCharts, drawCharts } from './charts.js';
import { loadInitial, startPolling } from './live.js';
import { installHook } from './hook.js';

/* global TEST_HOOKS */

const canvas = $('scatter');
const slider = $('slider');

function updateLabels() {
  if (!app.header) return;
  const n = app.frames.length;
  const step = n ? app.frames[app.frameIndex].step : 0;
  $('stepLabel').textContent = n
    ? 'step ' + step.toLocaleString('en-US') + '  (' + (app.frameIndex + 1) + ' / ' + n + ')'
    : 'no frames yet';
  const noun = app.header.noun || 'test images';
  $('points').textContent = `${app.count.toLocaleString('en-US')} ${noun} · ${n} frame${n === 1 ? '' : 's'}`;
  $('run').textContent = app.header.run;
  $('search').placeholder = `select: class, ${app.header.indexName || 'test image'} #, value`;
  slider.max = String(Math.max(0, n - 1));
  slider.value = String(app.frameIndex);
  slider.disabled = n < 2;
  updatePinned();
}

function resize() {
  resizeCanvas();
  fitView();
  drawCharts();
  emit('resize');
}

function onHeader() {
  buildCharts();
  resize();
  updateLabels();
}

on('header', onHeader);
on('frames', ({ wasAtEnd, hadFrames }) => {
  fitView();
  // Following a live run: a page showing the last frame moves on to the new one.
  if (app.ready && hadFrames && wasAtEnd && !app.playing) goTo(app.frames.length - 1);
  updateLabels();
  drawCharts();
});
on('step', () => {
  updateLabels();
  drawCharts();
});

function tick(now) {
  advancePlayback(now);
  stepTransition(now);
  if (app.dirty) {
    const start = performance.now();
    draw();
    app.lastFrameMs = performance.now() - start;
    app.dirty = false;
  }
  requestAnimationFrame(tick);
}

canvas.addEventListener('mousemove', (event) => {
  if (!dragging()) hoverAt(...pointerPosition(event));
});
installPointer();
installGestures();
installPanel();
installColourBy();
installRecord();
installCompare();
$('search').addEventListener('keydown', (event) => {
  if (event.key !== 'Enter') return;
  event.preventDefault();
  applySelection(pointsMatching(event.target.value), modeOf(event));
});
$('play').addEventListener('click', () => setPlaying(!app.playing));
slider.addEventListener('input', () => goTo(Number(slider.value)));
$('speed').addEventListener('change', resetHold);
document.addEventListener('keydown', (event) => {
  const tag = event.target && event.target.tagName;
  if (tag === 'SELECT' || tag === 'INPUT' || tag === 'TEXTAREA') {
    if (tag !== 'INPUT' || event.target.type !== 'range') return;
  }
  if (event.key === 'Escape') {
    resetSelection();
  } else if (event.key === ' ') {
    event.preventDefault();
    setPlaying(!app.playing);
  } else if (event.key === 'ArrowRight' || event.key === 'ArrowLeft') {
    event.preventDefault();
    setPlaying(false);
    goTo(app.frameIndex + (event.key === 'ArrowRight' ? 1 : -1));
  }
});
// A focused button would also take a space as a click (on key up), undoing the toggle above.
document.addEventListener('keyup', (event) => {
  if (event.key === ' ') event.preventDefault();
});
window.addEventListener('resize', resize);

if (TEST_HOOKS) {
  installHook({
    selected: () => selectedIndices(),
    measuresPending: () => measuresPending(),
    compare: () =>
      comparing()
        ? { run: other.header.run, frameIndex: other.frameIndex, step: other.frames[other.frameIndex].step }
        : null,
    pointScreenB: () => (i) => {
      const rect = $('scatterB').getBoundingClientRect();
      return { x: rect.left + bx(other.current[2 * i]), y: rect.top + by(other.current[2 * i + 1]) };
    },
  });
}
requestAnimationFrame(tick);
void loadInitial(JSON.parse($('timelapse-data').textContent)).then(() => {
  app.ready = true;
  $('size').textContent = document.body.dataset.size;
  installHash();
  startPolling(onHeader);
});
