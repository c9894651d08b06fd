// One small line chart per measure the page was given (header.measures: key, name, format), over
// the steps; the current step is marked, and a click on a chart jumps to the nearest step.
import { app, $ } from './state.js';
import { goTo } from './animation.js';

const PAD = 6;
const FORMATS = {
  percent: (v) => (100 * v).toFixed(1) + '%',
  decimal: (v) => v.toFixed(3),
};
let charts = [];

export function buildCharts() {
  const holder = $('charts');
  holder.textContent = '';
  charts = app.header.measures.map((measure) => {
    const box = document.createElement('div');
    box.className = 'chart';
    box.innerHTML = '<div class="label"><span></span><span class="value"></span></div><canvas></canvas>';
    box.querySelector('span').textContent = measure.name;
    const canvas = box.querySelector('canvas');
    canvas.dataset.metric = measure.key;
    canvas.addEventListener('click', (event) => {
      const rect = canvas.getBoundingClientRect();
      goTo(nearestIndex(event.clientX - rect.left, rect.width));
    });
    holder.append(box);
    return {
      measure,
      box,
      canvas,
      value: box.querySelector('.value'),
      format: FORMATS[measure.format] || FORMATS.decimal,
    };
  });
}

function chartX(step, width) {
  const frames = app.frames;
  const first = frames[0].step;
  const span = frames[frames.length - 1].step - first || 1;
  return PAD + ((step - first) / span) * (width - 2 * PAD);
}

function nearestIndex(x, width) {
  let best = 0;
  app.frames.forEach((frame, k) => {
    if (Math.abs(chartX(frame.step, width) - x) < Math.abs(chartX(app.frames[best].step, width) - x)) best = k;
  });
  return best;
}

/** Draws `values` (one per frame, null where missing) as a line with the current step marked. */
export function drawSeries(el, values, color = '#4878d0') {
  const rect = el.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(rect.width * dpr));
  const height = Math.max(1, Math.round(rect.height * dpr));
  // Resizing reallocates the canvas: only when its size changed (charts redraw on every step).
  if (el.width !== width) el.width = width;
  if (el.height !== height) el.height = height;
  const c = el.getContext('2d');
  c.setTransform(dpr, 0, 0, dpr, 0, 0);
  c.clearRect(0, 0, rect.width, rect.height);
  const known = values.filter((v) => v !== null && Number.isFinite(v));
  if (known.length === 0 || app.frames.length === 0) return;
  let lo = Math.min(...known);
  let hi = Math.max(...known);
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  const y = (v) => rect.height - PAD - ((v - lo) / (hi - lo)) * (rect.height - 2 * PAD);
  const x = (k) => chartX(app.frames[k].step, rect.width);
  c.strokeStyle = color;
  c.lineWidth = 1.5;
  c.beginPath();
  let open = false;
  values.forEach((v, k) => {
    if (v === null || !Number.isFinite(v)) {
      open = false;
      return;
    }
    if (open) c.lineTo(x(k), y(v));
    else c.moveTo(x(k), y(v));
    open = true;
  });
  c.stroke();
  const k = app.frameIndex;
  c.strokeStyle = '#d65f5f';
  c.lineWidth = 1;
  c.beginPath();
  c.moveTo(x(k), 0);
  c.lineTo(x(k), rect.height);
  c.stroke();
  const now = values[k];
  if (now !== null && now !== undefined && Number.isFinite(now)) {
    c.fillStyle = '#d65f5f';
    c.beginPath();
    c.arc(x(k), y(now), 3, 0, 2 * Math.PI);
    c.fill();
  }
}

export function drawCharts() {
  if (!app.header) return;
  for (const chart of charts) {
    const values = app.frames.map((f) => {
      const v = f.metrics[chart.measure.key];
      return v === undefined ? null : v;
    });
    // A measure no frame has (no accuracy in another trainer's embeddings) gets no empty chart.
    chart.box.hidden = values.every((v) => v === null);
    if (chart.box.hidden) continue;
    const now = values[app.frameIndex];
    chart.value.textContent = now === null || now === undefined ? '—' : chart.format(now);
    drawSeries(chart.canvas, values);
  }
}
