/**
 * The timelapse page's HTML: the player's script (bundled from src/view/client/) and style are
 * inlined and its header (the points, the measures to chart) sits in a JSON block. The frames are
 * in chunk files beside it (or inline, for a self-contained page), the thumbnails in the
 * projector's sprite (`projector/sprite.png`); a browser loads both from file:// too. No network,
 * no CDN.
 */
import { readFileSync } from 'node:fs';
import { CLASS_COLORS, cssColor } from '../render/palette.ts';
import { clientScript } from './bundle.ts';
import type { PageHeader, TimelapseData } from './encode.ts';

const STYLE = readFileSync(new URL('./client/page.css', import.meta.url), 'utf8');
const SIZE_MARK = '%%PAGE_SIZE%%';

/** JSON that is safe inside <script>: no `</script>`, no `<!--`. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(2)} MB`;
}

function pageText(data: PageHeader | TimelapseData): string {
  const title = `${escapeHtml(data.run)} · embedding timelapse`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${title}</title>
<style>
${STYLE}</style>
</head>
<body data-size="${SIZE_MARK}">
<header>
  <h1>t-SNE timelapse · <span id="run"></span></h1>
  <span class="meta" id="points"></span>
  <span class="meta">page <span id="size"></span></span>
  <span id="toolbar">
    <span id="tools" role="group" aria-label="drag on the scatter to">
      <button type="button" data-tool="lasso">Lasso</button><button type="button" data-tool="box">Box</button
      ><button type="button" data-tool="pan">Pan</button>
    </span>
    <button id="resetZoom" type="button">Reset zoom</button>
    <input id="search" type="search" placeholder="select: class, test image #, value" aria-label="select by search">
    <label>colour <select id="colourBy" aria-label="colour by"></select></label>
    <button id="record" type="button">Record WebM</button>
  </span>
</header>
<main>
  <div id="stage">
    <canvas id="scatter" aria-label="t-SNE scatter of the test images"></canvas>
    <canvas id="scatterB" aria-label="the compared run's t-SNE scatter of the same test images"></canvas>
    <div id="compareA" class="runName"></div><div id="compareB" class="runName"></div>
    <div id="compareNote" class="hint" hidden></div>
    <div id="card">
      <div id="thumb"></div>
      <div class="what"><div class="cls"></div><div class="idx"></div><div class="pt hint"></div></div>
    </div>
  </div>
  <aside>
    <div id="legend"></div>
    <div id="colourBar" hidden><canvas></canvas><div class="ends"><span></span><span></span></div></div>
    <div class="hint">Click a class to highlight it, double-click to show only it, shift-click to select it.</div>
    <section id="selection" hidden>
      <div class="head"><b id="selCount"></b>
        <button id="selClear" type="button">Clear</button><button id="selCsv" type="button">CSV</button
        ><button id="selCopy" type="button">Copy indices</button></div>
      <div id="selClasses"></div>
      <div class="chart"><div class="label"><span>spread of the selection (vs all)</span><span id="selSpreadValue"
        class="value"></span></div><canvas id="selSpread"></canvas></div>
      <div class="chart"><div class="label"><span>its neighbourhood hit</span><span id="selHitValue"
        class="value"></span></div><canvas id="selHit"></canvas></div>
      <div id="thumbs"><div id="thumbsInner"></div></div>
    </section>
    <div id="charts"></div>
    <div class="hint">Click a chart to jump to that step.</div>
    <div id="pinned" class="hint"></div>
    <div class="hint">Drag to lasso (shift adds, alt removes), wheel or pinch to zoom. Keys: space play/pause,
      ← → step, Esc clears the selection.</div>
  </aside>
</main>
<footer>
  <button id="play" type="button">Play</button>
  <input id="slider" type="range" min="0" max="0" step="1" value="0" aria-label="step">
  <span id="stepLabel"></span>
  <label>speed <select id="speed">
    <option value="0.5">0.5×</option><option value="1" selected>1×</option><option value="2">2×</option>
    <option value="4">4×</option>
  </select></label>
</footer>
<script id="timelapse-colors" type="application/json">${scriptJson(data.colors ?? CLASS_COLORS.map(cssColor))}</script>
<script id="timelapse-data" type="application/json">${scriptJson(data)}</script>
<script>
${clientScript()}</script>
</body>
</html>
`;
}

/**
 * The page's HTML. It states its own size: the size text is part of the page, so it is filled
 * in until the number it shows is the number it makes (two rounds at most in practice).
 */
export function renderTimelapseHtml(data: PageHeader | TimelapseData): string {
  const template = pageText(data);
  const baseBytes = Buffer.byteLength(template) - SIZE_MARK.length;
  let label = formatBytes(baseBytes);
  for (let round = 0; round < 5; round++) {
    const next = formatBytes(baseBytes + Buffer.byteLength(label));
    if (next === label) break;
    label = next;
  }
  return template.replace(SIZE_MARK, label);
}
