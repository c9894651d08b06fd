// The class legend: a click highlights a class (the others fade), a double-click shows only it;
// shift-click adds the class to the selection, alt-click takes it out.
import { app, $, COLORS, emit } from './state.js';
import { applySelection, modeOf, pointsOfClass } from './select.js';
import { pickable } from './colour.js';
import { showCard } from './pointer.js';

let isolateBeforeClicks = -1;

export function buildLegend() {
  const legend = $('legend');
  legend.textContent = '';
  app.header.classNames.forEach((name, c) => {
    const item = document.createElement('div');
    item.className = 'item';
    item.dataset.class = String(c);
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = COLORS[c % COLORS.length];
    item.append(swatch, document.createTextNode(name));
    // A double-click also sends two clicks first: only the first counts, and the double-click
    // decides from the isolation as it was before it.
    item.addEventListener('click', (event) => {
      if (event.detail > 1) return;
      if (event.shiftKey || event.altKey) {
        applySelection(pointsOfClass(c), modeOf(event));
        return;
      }
      isolateBeforeClicks = app.isolate;
      app.highlight = app.highlight === c ? -1 : c;
      app.isolate = -1;
      styleLegend();
    });
    item.addEventListener('dblclick', () => {
      app.isolate = isolateBeforeClicks === c ? -1 : c;
      app.highlight = -1;
      styleLegend();
    });
    legend.append(item);
  });
  styleLegend();
}

export function styleLegend() {
  const focus = app.isolate >= 0 ? app.isolate : app.highlight;
  for (const item of $('legend').children) {
    const c = Number(item.dataset.class);
    item.classList.toggle('faded', focus >= 0 && c !== focus);
  }
  if (app.hovered >= 0 && !pickable(app.hovered)) {
    app.hovered = -1;
    showCard(-1);
  }
  emit('legend');
}
