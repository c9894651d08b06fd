// The timelapse player. Plain browser JavaScript, inlined into timelapse.html by src/view/template.ts;
// it reads its data from the <script id="timelapse-data"> block and its sprite from beside the page.
'use strict';
(function () {
  const QUANT_MAX = 65535;
  const COLORS = JSON.parse(document.getElementById('timelapse-colors').textContent);
  const SPEEDS = { 0.5: 0.5, 1: 1, 2: 2, 4: 4 };
  const TRANSITION_MS = 700; // at speed 1: long enough for the eye to follow a point
  const HOLD_MS = 350; // pause on each frame while playing, at speed 1
  const POLL_MS = 1500;

  const $ = (id) => document.getElementById(id);
  const canvas = $('scatter');
  const ctx = canvas.getContext('2d', { alpha: false });
  const slider = $('slider');
  const playButton = $('play');
  const speedSelect = $('speed');
  const card = $('card');
  const thumb = $('thumb');

  let data = null;
  let labels = null;
  let testIndices = null;
  let frames = []; // Uint16Array per frame (x, y codes)
  let current = null; // Float32Array of displayed data positions (codes, interpolated)
  let frameIndex = 0;
  let transition = null; // { from: Float32Array, to: index, start, duration }
  let playing = false;
  let holdUntil = 0;
  let hovered = -1;
  let pinned = -1;
  let highlight = -1;
  let isolate = -1;
  let isolateBeforeClicks = -1;
  let version = 0;
  let dirty = true;
  let view = { scale: 1, offsetX: 0, offsetY: 0, dpr: 1, width: 0, height: 0 };
  let stamp = null;
  let image = null;
  const RGB = COLORS.map(rgbOf);
  const BACKGROUND = [0xea, 0xea, 0xf2];
  let lastFrameMs = 0;

  function decodeBase64(text) {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  function decodeUint16(text) {
    const bytes = decodeBase64(text);
    const out = new Uint16Array(bytes.length / 2);
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < out.length; i++) out[i] = dv.getUint16(2 * i, true);
    return out;
  }

  function decodeUint32(text) {
    const bytes = decodeBase64(text);
    const out = new Uint32Array(bytes.length / 4);
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < out.length; i++) out[i] = dv.getUint32(4 * i, true);
    return out;
  }

  function load(next, size) {
    if (size) $('size').textContent = size;
    const sameRun = data && data.run === next.run && data.count === next.count;
    const wasAtEnd = data && frameIndex === data.steps.length - 1;
    data = next;
    labels = decodeBase64(data.labels);
    testIndices = decodeUint32(data.testIndices);
    frames = data.frames.map(decodeUint16);
    if (!sameRun) {
      frameIndex = 0;
      current = frames.length ? Float32Array.from(frames[0]) : new Float32Array(0);
      pinned = -1;
      hovered = -1;
    } else if (wasAtEnd && !playing) {
      goTo(frames.length - 1);
    }
    frameIndex = Math.min(frameIndex, Math.max(0, frames.length - 1));
    slider.max = String(Math.max(0, frames.length - 1));
    slider.value = String(frameIndex);
    slider.disabled = frames.length < 2;
    version++;
    buildLegend();
    if (data.sprite) {
      thumb.style.backgroundImage = 'url("' + data.sprite.src + '")';
      thumb.style.backgroundSize = data.sprite.side * 64 + 'px ' + data.sprite.side * 64 + 'px';
    }
    updateLabels();
    drawCharts();
    dirty = true;
  }

  // ---- geometry -------------------------------------------------------------------------------

  function resize() {
    const rect = canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(rect.width * dpr));
    canvas.height = Math.max(1, Math.round(rect.height * dpr));
    view.dpr = dpr;
    view.width = rect.width;
    view.height = rect.height;
    fitView();
    makeStamp();
    drawCharts();
    dirty = true;
  }

  // Data codes → CSS pixels inside the canvas, same scale on both axes, a margin for the dots.
  function fitView() {
    if (!data) return;
    const b = data.bounds;
    const spanX = b.maxX - b.minX;
    const spanY = b.maxY - b.minY;
    const margin = 14;
    const scale = Math.min((view.width - 2 * margin) / spanX, (view.height - 2 * margin) / spanY);
    view.scale = scale;
    view.unitX = (spanX / QUANT_MAX) * scale;
    view.unitY = (spanY / QUANT_MAX) * scale;
    view.offsetX = (view.width - spanX * scale) / 2;
    // y grows upwards in the data, downwards on screen.
    view.offsetY = (view.height + spanY * scale) / 2;
  }

  function screenX(code) {
    return view.offsetX + code * view.unitX;
  }
  function screenY(code) {
    return view.offsetY - code * view.unitY;
  }

  function dotRadius() {
    const n = data ? data.count : 1;
    return n > 5000 ? 2 : n > 1500 ? 2.6 : 3.4;
  }

  // The scatter is drawn into pixels directly: one disc stamp (coverage per pixel, so edges
  // stay smooth) blended per point, then a single putImageData. With a software canvas (no GPU)
  // this is several times faster than 10,000 drawImage or arc calls.
  function makeStamp() {
    const r = dotRadius() * view.dpr;
    const size = Math.ceil(2 * r + 2) | 1;
    const centre = (size - 1) / 2;
    const offsets = [];
    const coverage = [];
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const a = Math.min(1, Math.max(0, r + 0.5 - Math.hypot(x - centre, y - centre)));
        if (a > 0) {
          offsets.push([x - centre, y - centre]);
          coverage.push(a);
        }
      }
    }
    stamp = {
      dx: Int32Array.from(offsets, (o) => o[0]),
      dy: Int32Array.from(offsets, (o) => o[1]),
      a: Float32Array.from(coverage),
    };
  }

  function rgbOf(css) {
    const m = /(\d+)\D+(\d+)\D+(\d+)/.exec(css);
    return [Number(m[1]), Number(m[2]), Number(m[3])];
  }

  // ---- animation ------------------------------------------------------------------------------

  function speed() {
    return SPEEDS[speedSelect.value] || 1;
  }

  function ease(t) {
    return t < 0.5 ? 4 * t * t * t : 1 - Math.pow(-2 * t + 2, 3) / 2;
  }

  function goTo(index, instant) {
    if (!data || frames.length === 0) return;
    index = Math.max(0, Math.min(frames.length - 1, index));
    if (instant) {
      current = Float32Array.from(frames[index]);
      transition = null;
    } else {
      transition = {
        from: Float32Array.from(current),
        to: index,
        start: performance.now(),
        duration: TRANSITION_MS / speed(),
      };
    }
    frameIndex = index;
    slider.value = String(index);
    updateLabels();
    drawCharts();
    dirty = true;
  }

  function stepTransition(now) {
    if (!transition) return;
    const target = frames[transition.to];
    const t = Math.min(1, (now - transition.start) / transition.duration);
    const e = ease(t);
    const from = transition.from;
    for (let i = 0; i < current.length; i++) current[i] = from[i] + (target[i] - from[i]) * e;
    if (t >= 1) {
      transition = null;
      holdUntil = now + HOLD_MS / speed();
    }
    dirty = true;
  }

  function setPlaying(on) {
    playing = on && frames.length > 1;
    playButton.textContent = playing ? 'Pause' : 'Play';
    if (playing && !transition) {
      holdUntil = 0;
      if (frameIndex === frames.length - 1) goTo(0);
    }
  }

  function advancePlayback(now) {
    if (!playing || transition || now < holdUntil) return;
    if (frameIndex >= frames.length - 1) {
      // Hold on the last frame a little longer, then start over.
      if (now < holdUntil + (2 * HOLD_MS) / speed()) return;
      goTo(0);
      return;
    }
    goTo(frameIndex + 1);
  }

  function tick(now) {
    advancePlayback(now);
    stepTransition(now);
    if (dirty) {
      const start = performance.now();
      draw();
      lastFrameMs = performance.now() - start;
      dirty = false;
    }
    requestAnimationFrame(tick);
  }

  // ---- drawing --------------------------------------------------------------------------------

  function visible(label) {
    return isolate < 0 || label === isolate;
  }

  function draw() {
    const width = canvas.width;
    const height = canvas.height;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    if (!image || image.width !== width || image.height !== height) image = ctx.createImageData(width, height);
    const px = image.data;
    for (let k = 0; k < px.length; k += 4) {
      px[k] = BACKGROUND[0];
      px[k + 1] = BACKGROUND[1];
      px[k + 2] = BACKGROUND[2];
      px[k + 3] = 255;
    }
    if (data && current && stamp) drawPoints(px, width, height);
    ctx.putImageData(image, 0, 0);
    ctx.setTransform(view.dpr, 0, 0, view.dpr, 0, 0);
    if (!data || !current) return;
    if (pinned >= 0) drawTrail(pinned);
    if (hovered >= 0) ring(hovered, '#262626');
  }

  function drawPoints(px, width, height) {
    const dpr = view.dpr;
    const { dx, dy, a } = stamp;
    const n = data.count;
    // Faded classes first, so the highlighted one lies on top.
    for (let pass = 0; pass < 2; pass++) {
      const faded = pass === 0;
      if (faded && highlight < 0) continue;
      const alpha = faded ? 0.13 : 1;
      for (let i = 0; i < n; i++) {
        const label = labels[i];
        if (!visible(label)) continue;
        if (highlight >= 0 && (label !== highlight) !== faded) continue;
        const cx = Math.round(screenX(current[2 * i]) * dpr);
        const cy = Math.round(screenY(current[2 * i + 1]) * dpr);
        const [r, g, b] = RGB[label % RGB.length];
        for (let k = 0; k < a.length; k++) {
          const x = cx + dx[k];
          const y = cy + dy[k];
          if (x < 0 || y < 0 || x >= width || y >= height) continue;
          const at = 4 * (y * width + x);
          const w = a[k] * alpha;
          px[at] += (r - px[at]) * w;
          px[at + 1] += (g - px[at + 1]) * w;
          px[at + 2] += (b - px[at + 2]) * w;
        }
      }
    }
  }

  function ring(i, color) {
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(screenX(current[2 * i]), screenY(current[2 * i + 1]), dotRadius() + 4, 0, 2 * Math.PI);
    ctx.stroke();
  }

  function trailPoints(i) {
    return frames.map((f) => [screenX(f[2 * i]), screenY(f[2 * i + 1])]);
  }

  function drawTrail(i) {
    const points = trailPoints(i);
    ctx.strokeStyle = 'rgba(38,38,38,0.8)';
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    points.forEach(([x, y], k) => (k === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
    ctx.stroke();
    points.forEach(([x, y], k) => {
      ctx.fillStyle = k === frameIndex ? '#262626' : '#ffffff';
      ctx.strokeStyle = '#262626';
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.arc(x, y, k === frameIndex ? 3.5 : 2.5, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    });
    ring(i, COLORS[labels[i] % COLORS.length]);
  }

  // ---- pointer --------------------------------------------------------------------------------

  function nearestPoint(px, py) {
    if (!data || !current) return -1;
    let best = -1;
    let bestDistance = Math.max(8, dotRadius() + 4) ** 2;
    for (let i = 0; i < data.count; i++) {
      if (!visible(labels[i])) continue;
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

  function showCard(i, px, py) {
    if (i < 0) {
      card.classList.remove('shown');
      return;
    }
    const label = labels[i];
    card.querySelector('.cls').textContent = data.classNames[label] || String(label);
    card.querySelector('.cls').style.color = COLORS[label % COLORS.length];
    card.querySelector('.idx').textContent = (data.indexName || 'test image') + ' #' + testIndices[i];
    card.querySelector('.pt').textContent = 'point ' + i;
    if (data.sprite) {
      const col = i % data.sprite.side;
      const row = Math.floor(i / data.sprite.side);
      thumb.style.backgroundPosition = -col * 64 + 'px ' + -row * 64 + 'px';
      thumb.style.display = '';
    } else {
      thumb.style.display = 'none';
    }
    card.classList.add('shown');
    const stage = canvas.getBoundingClientRect();
    const left = px + 16 + 200 > stage.width ? px - 16 - card.offsetWidth : px + 16;
    card.style.left = left + 'px';
    card.style.top = Math.max(0, Math.min(stage.height - card.offsetHeight, py - 20)) + 'px';
  }

  function pointerPosition(event) {
    const rect = canvas.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  }

  canvas.addEventListener('mousemove', (event) => {
    const [px, py] = pointerPosition(event);
    const i = nearestPoint(px, py);
    if (i !== hovered) dirty = true;
    hovered = i;
    showCard(i, px, py);
  });
  canvas.addEventListener('mouseleave', () => {
    hovered = -1;
    showCard(-1);
    dirty = true;
  });
  canvas.addEventListener('click', (event) => {
    const [px, py] = pointerPosition(event);
    const i = nearestPoint(px, py);
    pinned = i === pinned ? -1 : i;
    updatePinned();
    dirty = true;
  });

  function updatePinned() {
    const el = $('pinned');
    if (pinned < 0) {
      el.textContent = 'Click a point to pin it and draw its path over all steps.';
      return;
    }
    const name = data.classNames[labels[pinned]] || labels[pinned];
    el.textContent =
      `Pinned: point ${pinned} (${name}, ${data.indexName || 'test image'} #${testIndices[pinned]}); ` +
      'click it again to unpin.';
  }

  // ---- legend ---------------------------------------------------------------------------------

  function buildLegend() {
    const legend = $('legend');
    legend.textContent = '';
    data.classNames.forEach((name, c) => {
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
        isolateBeforeClicks = isolate;
        highlight = highlight === c ? -1 : c;
        isolate = -1;
        styleLegend();
      });
      item.addEventListener('dblclick', () => {
        isolate = isolateBeforeClicks === c ? -1 : c;
        highlight = -1;
        styleLegend();
      });
      legend.append(item);
    });
    styleLegend();
  }

  function styleLegend() {
    for (const item of $('legend').children) {
      const c = Number(item.dataset.class);
      const focus = isolate >= 0 ? isolate : highlight;
      item.classList.toggle('faded', focus >= 0 && c !== focus);
    }
    if (hovered >= 0 && !visible(labels[hovered])) {
      hovered = -1;
      showCard(-1);
    }
    dirty = true;
  }

  // ---- charts ---------------------------------------------------------------------------------

  const CHARTS = [
    { key: 'accuracy', name: 'validation accuracy (test images)', format: (v) => (100 * v).toFixed(1) + '%' },
    { key: 'neighborhoodHit', name: 'neighbourhood hit', format: (v) => v.toFixed(3) },
    { key: 'knnPreservation', name: '10-NN preservation', format: (v) => v.toFixed(3) },
    { key: 'displacement', name: 'displacement', format: (v) => v.toFixed(3) },
  ];

  function buildCharts() {
    const holder = $('charts');
    for (const chart of CHARTS) {
      const box = document.createElement('div');
      box.className = 'chart';
      box.innerHTML = '<div class="label"><span></span><span class="value"></span></div><canvas></canvas>';
      box.querySelector('span').textContent = chart.name;
      chart.canvas = box.querySelector('canvas');
      chart.value = box.querySelector('.value');
      chart.canvas.dataset.metric = chart.key;
      chart.canvas.addEventListener('click', (event) => {
        const rect = chart.canvas.getBoundingClientRect();
        goTo(chartIndexAt(event.clientX - rect.left, rect.width));
      });
      holder.append(box);
    }
  }

  const CHART_PAD = 6;

  function chartX(step, width) {
    const steps = data.steps;
    const first = steps[0];
    const last = steps[steps.length - 1];
    const span = last - first || 1;
    return CHART_PAD + ((step - first) / span) * (width - 2 * CHART_PAD);
  }

  function chartIndexAt(x, width) {
    let best = 0;
    data.steps.forEach((step, k) => {
      if (Math.abs(chartX(step, width) - x) < Math.abs(chartX(data.steps[best], width) - x)) best = k;
    });
    return best;
  }

  function drawCharts() {
    if (!data) return;
    for (const chart of CHARTS) {
      const el = chart.canvas;
      const rect = el.getBoundingClientRect();
      const dpr = window.devicePixelRatio || 1;
      el.width = Math.max(1, Math.round(rect.width * dpr));
      el.height = Math.max(1, Math.round(rect.height * dpr));
      const c = el.getContext('2d');
      c.setTransform(dpr, 0, 0, dpr, 0, 0);
      c.clearRect(0, 0, rect.width, rect.height);
      const values = data.metrics[chart.key] || [];
      const known = values.filter((v) => v !== null && Number.isFinite(v));
      const now = values[frameIndex];
      chart.value.textContent = now === null || now === undefined ? '—' : chart.format(now);
      if (known.length === 0) continue;
      let lo = Math.min(...known);
      let hi = Math.max(...known);
      if (hi - lo < 1e-9) {
        lo -= 0.5;
        hi += 0.5;
      }
      const y = (v) => rect.height - CHART_PAD - ((v - lo) / (hi - lo)) * (rect.height - 2 * CHART_PAD);
      const x = (k) => chartX(data.steps[k], rect.width);
      c.strokeStyle = '#4878d0';
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
      c.strokeStyle = '#d65f5f';
      c.lineWidth = 1;
      c.beginPath();
      c.moveTo(x(frameIndex), 0);
      c.lineTo(x(frameIndex), rect.height);
      c.stroke();
      if (now !== null && now !== undefined && Number.isFinite(now)) {
        c.fillStyle = '#d65f5f';
        c.beginPath();
        c.arc(x(frameIndex), y(now), 3, 0, 2 * Math.PI);
        c.fill();
      }
    }
  }

  // ---- labels and controls --------------------------------------------------------------------

  function updateLabels() {
    if (!data) return;
    const n = data.steps.length;
    const step = n ? data.steps[frameIndex] : 0;
    $('stepLabel').textContent = n
      ? 'step ' + step.toLocaleString('en-US') + '  (' + (frameIndex + 1) + ' / ' + n + ')'
      : 'no frames yet';
    $('points').textContent =
      `${data.count.toLocaleString('en-US')} ${data.noun || 'test images'} · ${n} frame${n === 1 ? '' : 's'}`;
    $('run').textContent = data.run;
    updatePinned();
  }

  playButton.addEventListener('click', () => setPlaying(!playing));
  slider.addEventListener('input', () => goTo(Number(slider.value)));
  speedSelect.addEventListener('change', () => {
    holdUntil = 0;
  });
  document.addEventListener('keydown', (event) => {
    if (event.target && event.target.tagName === 'SELECT') return;
    if (event.key === ' ') {
      event.preventDefault();
      setPlaying(!playing);
    } else if (event.key === 'ArrowRight' || event.key === 'ArrowLeft') {
      event.preventDefault();
      setPlaying(false);
      goTo(frameIndex + (event.key === 'ArrowRight' ? 1 : -1));
    }
  });
  // A focused button would also take a space as a click (on key up), undoing the toggle above.
  document.addEventListener('keyup', (event) => {
    if (event.key === ' ') event.preventDefault();
  });
  window.addEventListener('resize', resize);

  // ---- live updates (only when served over http by `embedding-timelapse view`) ----------------

  function extractData(html) {
    const match = /<script id="timelapse-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html);
    return match ? JSON.parse(match[1]) : null;
  }

  let etag = null;
  async function poll() {
    try {
      const head = await fetch(location.pathname, { method: 'HEAD', cache: 'no-store' });
      const tag = head.headers.get('etag');
      if (!head.ok || !tag || tag === etag) return;
      // Changed, or the first poll (the page may have been rewritten since it was loaded): fetch
      // it and load its data if it is newer than what is shown.
      const response = await fetch(location.pathname, { cache: 'no-store' });
      if (!response.ok) return;
      const html = await response.text();
      const next = extractData(html);
      if (!next) return;
      etag = response.headers.get('etag') || tag;
      if (next.generated !== data.generated) {
        const size = /<body data-size="([^"]*)"/.exec(html);
        load(next, size ? size[1] : null);
      }
    } catch {
      // The server may be restarting; try again at the next poll.
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  // ---- the test hook: read-only, so tests and benchmarks can be exact -------------------------

  window.timelapse = Object.freeze({
    get ready() {
      return data !== null;
    },
    get version() {
      return version;
    },
    get step() {
      return data && data.steps.length ? data.steps[frameIndex] : null;
    },
    get frameIndex() {
      return frameIndex;
    },
    get frameCount() {
      return frames.length;
    },
    get steps() {
      return data ? data.steps.slice() : [];
    },
    get playing() {
      return playing;
    },
    get animating() {
      return transition !== null;
    },
    get hovered() {
      return hovered;
    },
    get pinned() {
      return pinned;
    },
    get highlight() {
      return highlight;
    },
    get isolate() {
      return isolate;
    },
    get lastFrameMs() {
      return lastFrameMs;
    },
    /** Point i's position now, in page (client) coordinates. */
    pointScreen(i) {
      const rect = canvas.getBoundingClientRect();
      return { x: rect.left + screenX(current[2 * i]), y: rect.top + screenY(current[2 * i + 1]) };
    },
    get trailVertexCount() {
      return pinned >= 0 ? trailPoints(pinned).length : 0;
    },
    /** Draws the scatter `count` times at positions between two frames; returns ms per draw. */
    measureDraw(count) {
      const start = performance.now();
      const saved = Float32Array.from(current);
      const a = frames[0];
      const b = frames[frames.length - 1];
      for (let k = 0; k < count; k++) {
        const e = ease((k + 1) / count);
        for (let i = 0; i < current.length; i++) current[i] = a[i] + (b[i] - a[i]) * e;
        draw();
      }
      current.set(saved);
      dirty = true;
      return (performance.now() - start) / count;
    },
  });

  buildCharts();
  load(JSON.parse(document.getElementById('timelapse-data').textContent), document.body.dataset.size);
  resize();
  requestAnimationFrame(tick);
  if (location.protocol === 'http:' || location.protocol === 'https:') poll();
})();
