// The "colour by" choice and the legend of colourings other than the true class: predicted
// class and right/wrong at this step (with counts, updated as the steps change), metadata
// categories, or the colour bar of a numeric column.
import { app, $, on, emit } from './state.js';
import {
  colouring,
  hasPredictions,
  predictionsNow,
  metadataColumn,
  columnScale,
  barColour,
  cssOf,
  CLASS_RGB,
  CATEGORY_RGB,
  RIGHT_RGB,
  WRONG_RGB,
} from './colour.js';
import { buildLegend } from './legend.js';
import { className } from './pointer.js';

function legendItem(rgb, text, key) {
  const item = document.createElement('div');
  item.className = 'item static';
  item.dataset.key = key;
  const swatch = document.createElement('span');
  swatch.className = 'swatch';
  swatch.style.background = cssOf(rgb);
  const label = document.createElement('span');
  label.textContent = text;
  item.append(swatch, label);
  return item;
}

function percent(part, whole) {
  return whole ? ((100 * part) / whole).toFixed(1) + '%' : '—';
}

/** The legend for the colouring now (the class legend for 'class'). */
export function renderLegend() {
  const legend = $('legend');
  const bar = $('colourBar');
  bar.hidden = true;
  if (colouring.mode === 'class') {
    buildLegend();
    return;
  }
  legend.textContent = '';
  const predictions = predictionsNow();
  if (colouring.mode === 'predicted') {
    const counts = new Array(app.header.classNames.length).fill(0);
    if (predictions) for (let i = 0; i < app.count; i++) counts[predictions[i]]++;
    counts.forEach((count, c) =>
      legend.append(legendItem(CLASS_RGB[c % CLASS_RGB.length], className(c) + ' ' + count, 'class-' + c)),
    );
  } else if (colouring.mode === 'right') {
    let right = 0;
    if (predictions) for (let i = 0; i < app.count; i++) if (predictions[i] === app.labels[i]) right++;
    const wrong = predictions ? app.count - right : 0;
    legend.append(legendItem(RIGHT_RGB, 'right ' + right + ' (' + percent(right, app.count) + ')', 'right'));
    legend.append(legendItem(WRONG_RGB, 'wrong ' + wrong + ' (' + percent(wrong, app.count) + ')', 'wrong'));
    legend.dataset.right = String(right);
  } else {
    const column = metadataColumn(colouring.mode.slice(5));
    if (!column) return;
    const scale = columnScale(column);
    if (scale.kind === 'categories') {
      scale.values.forEach((value, k) => legend.append(legendItem(CATEGORY_RGB[k], value, 'value-' + k)));
    } else {
      bar.hidden = false;
      const canvas = bar.querySelector('canvas');
      canvas.width = 256;
      canvas.height = 1;
      const c = canvas.getContext('2d');
      for (let x = 0; x < 256; x++) {
        c.fillStyle = cssOf(barColour(x / 255));
        c.fillRect(x, 0, 1, 1);
      }
      const [low, high] = bar.querySelectorAll('.ends span');
      low.textContent = column.name + ' ' + scale.min;
      high.textContent = String(scale.max);
    }
  }
}

/** The options of the "colour by" menu: what this page's data allows. */
function renderOptions() {
  const select = $('colourBy');
  const options = [['class', 'true class']];
  if (hasPredictions())
    options.push(['predicted', 'predicted class (this step)'], ['right', 'right / wrong (this step)']);
  const columns = (app.header.metadata && app.header.metadata.columns) || [];
  for (const column of columns) options.push(['meta:' + column.name, column.name]);
  const key = options.map((o) => o[0]).join('|');
  if (select.dataset.key === key) return;
  select.dataset.key = key;
  select.textContent = '';
  for (const [value, text] of options) select.append(new Option(text, value, false, value === colouring.mode));
  select.parentElement.hidden = options.length < 2;
}

export function setColouring(mode) {
  colouring.mode = mode;
  $('colourBy').value = mode;
  renderLegend();
  emit('colouring');
}

export function installColourBy() {
  on('header', () => {
    colouring.mode = 'class';
    renderOptions();
    renderLegend();
  });
  on('frames', () => {
    renderOptions();
    if (colouring.mode !== 'class') renderLegend();
  });
  on('step', () => {
    if (colouring.mode === 'predicted' || colouring.mode === 'right') renderLegend();
  });
  $('colourBy').addEventListener('change', (event) => setColouring(event.target.value));
}
