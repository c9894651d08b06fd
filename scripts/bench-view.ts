/**
 * Benchmark of the timelapse page (issues 14, 20):
 * `npm run bench:view [-- --points 10000] [-- --frames 100] [-- --json]`.
 *
 * Writes the page of a synthetic run (ten clusters drifting apart, seeded) frame by frame with the
 * watcher's own `TimelapsePage`, prints its size and the time of the last update (append one
 * frame), then opens it through `view` in Debian's chromium (headless, no GPU: software canvas)
 * and measures:
 *   - load: navigation until the page's data is decoded and drawn (`timelapse.ready`);
 *   - draw: one animation frame's work (interpolate every point, draw the scatter), averaged;
 *   - playback: requestAnimationFrame intervals while playing at 4× speed (frames per second);
 *   - hover: one mousemove over the scatter (nearest point among all, hover card);
 *   - live update: the watcher appends one more frame while the page is open; the bytes the page
 *     transfers until it shows it, and the frames it decodes for it.
 * Without chromium it prints the size only. Numbers, no assertions; exits 0.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGaussian } from '../src/util/random.ts';
import { PAGE_HOOKS_ENV } from '../src/view/bundle.ts';
import type { TimelapseFrame } from '../src/view/encode.ts';
import { TimelapsePage } from '../src/view/page.ts';
import { createViewServer } from '../src/view/server.ts';
import { formatBytes } from '../src/view/template.ts';
// The browser tests' Chromium, launched the same way.
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from '../test/helpers/requirements.ts';
import { parseScriptArgs } from './script-args.ts';

// The functions given to page.evaluate run in the page: these are the page's globals, untyped here.
declare const window: any, document: any, MouseEvent: any;

// The page's test hook (window.timelapse) is what the measures below read.
process.env[PAGE_HOOKS_ENV] = '1';
const { values } = parseScriptArgs('bench:view', import.meta.url, {
  points: { type: 'string', default: '10000' },
  frames: { type: 'string', default: '100' },
  json: { type: 'boolean', default: false },
});
const json = values.json;
const points = Number(values.points);
const frameCount = Number(values.frames);
const CLASS_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

function emit(record: Record<string, unknown>, line: string): void {
  console.log(json ? JSON.stringify(record) : line);
}

/** Every point starts in one blob and drifts to its class's cluster, with per-frame jitter. */
function syntheticFrames(n: number, count: number): { labels: Uint8Array; frames: TimelapseFrame[] } {
  const gaussian = createGaussian(1);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  const start = Float64Array.from({ length: 2 * n }, () => gaussian());
  const frames: TimelapseFrame[] = [];
  for (let k = 0; k < count; k++) {
    const t = count === 1 ? 1 : k / (count - 1);
    const positions = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      const angle = (2 * Math.PI * labels[i]!) / 10;
      positions[2 * i] = (1 - t) * start[2 * i]! + t * (2 * Math.cos(angle) + 0.4 * start[2 * i]!) + 0.05 * gaussian();
      positions[2 * i + 1] =
        (1 - t) * start[2 * i + 1]! + t * (2 * Math.sin(angle) + 0.4 * start[2 * i + 1]!) + 0.05 * gaussian();
    }
    frames.push({
      step: 1000 * k,
      positions,
      accuracy: 0.1 + 0.5 * t,
      neighborhoodHit: 0.1 + 0.8 * t,
      knnPreservation: 0.6,
      displacement: 0.1,
    });
  }
  return { labels, frames };
}

const { labels, frames } = syntheticFrames(points, frameCount);
const dir = await mkdtemp(join(tmpdir(), 'bench-view-'));
const logdir = join(dir, 'logs');
const embeddingsDir = join(logdir, 'bench', 'embeddings');
const page = new TimelapsePage({
  run: 'bench',
  embeddingsDir,
  points: {
    labels,
    testIndices: Uint32Array.from({ length: points }, (_, i) => i),
    classNames: CLASS_NAMES,
    count: points,
  },
  frameFile: (step) => join(dir, `no-frame-files-here-${step}.tsv`),
});
const records = frames.map(({ positions: _, predictions: __, ...record }) => record);
/** Appends frame k as the watcher does after making it; returns the milliseconds it took. */
async function appendFrame(k: number): Promise<number> {
  const start = performance.now();
  await page.update(records.slice(0, k + 1), frames[k]!);
  return performance.now() - start;
}

try {
  let lastUpdateMs = 0;
  for (let k = 0; k < frameCount - 1; k++) lastUpdateMs = await appendFrame(k);
  const htmlBytes = (await stat(page.path)).size;
  let dataBytes = 0;
  for (const name of await readdir(page.chunkDir)) dataBytes += (await stat(join(page.chunkDir, name))).size;
  const bytes = htmlBytes + dataBytes;
  const shown = frameCount - 1;
  emit(
    { event: 'page', points, frames: shown, htmlBytes, dataBytes, lastUpdateMs },
    `page: ${points.toLocaleString('en-US')} points × ${shown} frames = ${formatBytes(htmlBytes)} page + ` +
      `${formatBytes(dataBytes)} data (${(bytes / points / shown).toFixed(2)} bytes per point per frame); ` +
      `appending frame ${shown} took ${lastUpdateMs.toFixed(0)} ms`,
  );
  if (!existsSync(CHROMIUM_PATH)) {
    emit(
      { event: 'skipped', reason: `no chromium at ${CHROMIUM_PATH}` },
      `browser measures skipped: no chromium at ${CHROMIUM_PATH}`,
    );
  } else {
    await browserMeasures();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

async function browserMeasures(): Promise<void> {
  const server = await createViewServer(logdir);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const { chromium } = await import('playwright-core');
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_FLAGS],
    viewport: { width: 1280, height: 800 },
  });
  try {
    const page = await context.newPage();
    let transferred = 0;
    let counting = false;
    page.on('requestfinished', (request) => {
      if (!counting) return;
      void request.sizes().then((s) => {
        transferred += s.requestHeadersSize + s.responseHeadersSize + s.responseBodySize;
      });
    });
    const loadStart = performance.now();
    await page.goto(`http://127.0.0.1:${port}/bench/embeddings/timelapse.html`);
    await page.waitForFunction(() => window.timelapse?.ready === true, undefined, { timeout: 120_000 });
    const loadMs = performance.now() - loadStart;
    const drawMs = await page.evaluate(() => window.timelapse.measureDraw(60) as number);
    const playback = await measurePlayback(page);
    const hoverMs = await page.evaluate(() => {
      const canvas = document.getElementById('scatter')!;
      const rect = canvas.getBoundingClientRect();
      const start = performance.now();
      for (let k = 0; k < 50; k++) {
        const event = new MouseEvent('mousemove', {
          clientX: rect.left + rect.width * (0.2 + 0.012 * k),
          clientY: rect.top + rect.height / 2,
        });
        canvas.dispatchEvent(event);
      }
      return (performance.now() - start) / 50;
    });
    // The live update: let the first poll settle, then append one frame and count what it costs.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const decodedBefore: number = await page.evaluate(() => window.timelapse.decodedFrames);
    counting = true;
    await appendFrame(frameCount - 1);
    await page.waitForFunction((n) => window.timelapse.frameCount === n, frameCount, { timeout: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    counting = false;
    const decoded = (await page.evaluate(() => window.timelapse.decodedFrames)) - decodedBefore;
    const tools = await measureTools(page, points);
    // Playback again, with 5,000 points selected (the rest faded) and one pinned with its trail,
    // once the panel has worked out the selection's measures over the steps (in the background).
    await page.evaluate(() => document.querySelector('#thumbs .thumb').click());
    await page.waitForFunction(() => !window.timelapse.measuresPending, undefined, { timeout: 120_000 });
    const selectedPlayback = await measurePlayback(page);
    emit(
      {
        event: 'browser',
        loadMs,
        drawMs,
        fps: playback.fps,
        p95IntervalMs: playback.p95,
        hoverMs,
        framesPlayed: playback.frameIndex,
        liveUpdateBytes: transferred,
        liveUpdateDecodedFrames: decoded,
        ...tools,
        selectedFps: selectedPlayback.fps,
        selectedP95IntervalMs: selectedPlayback.p95,
      },
      [
        `load (view, decode, first draw): ${loadMs.toFixed(0)} ms`,
        `draw one animation frame (interpolate + scatter): ${drawMs.toFixed(1)} ms`,
        `playback at 4×: ${playback.fps.toFixed(1)} frames/s, 95th-percentile frame interval ` +
          `${playback.p95.toFixed(1)} ms (reached frame ${playback.frameIndex + 1})`,
        `hover (nearest of ${points.toLocaleString('en-US')} points + card): ${hoverMs.toFixed(2)} ms`,
        `live update (one new frame through view): ${formatBytes(transferred)} transferred ` +
          `(${transferred} bytes), ${decoded} frame${decoded === 1 ? '' : 's'} decoded`,
        `lasso (pointer up: points inside, selection, panel): ${tools.lassoMs.toFixed(1)} ms ` +
          `for ${tools.lassoSelected.toLocaleString('en-US')} of ${points.toLocaleString('en-US')} points`,
        `selection panel for ${tools.panelSelected.toLocaleString('en-US')} points: ${tools.panelMs.toFixed(1)} ms ` +
          `to the first painted frame with ${tools.thumbnails} thumbnails`,
        `playback at 4× with ${tools.panelSelected.toLocaleString('en-US')} selected and one trail: ` +
          `${selectedPlayback.fps.toFixed(1)} frames/s, 95th-percentile frame interval ` +
          `${selectedPlayback.p95.toFixed(1)} ms`,
      ].join('\n'),
    );
  } finally {
    await context.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

interface ToolTimes {
  lassoMs: number;
  lassoSelected: number;
  panelMs: number;
  panelSelected: number;
  thumbnails: number;
}

/** A lasso drawn with pointer events, then a search that selects 5,000 points (the panel opens). */
async function measureTools(page: import('playwright-core').Page, count: number): Promise<ToolTimes> {
  return page.evaluate(`(async () => {
    const canvas = document.getElementById('scatter');
    const rect = canvas.getBoundingClientRect();
    const fire = (type, [x, y]) =>
      canvas.dispatchEvent(new PointerEvent(type, {
        clientX: rect.left + x * rect.width, clientY: rect.top + y * rect.height,
        button: 0, buttons: 1, pointerId: 1, pointerType: 'mouse', bubbles: true,
      }));
    const corners = [[0.4, 0.4], [0.6, 0.37], [0.63, 0.6], [0.5, 0.66], [0.37, 0.58], [0.4, 0.4]];
    fire('pointerdown', corners[0]);
    for (let c = 1; c < corners.length; c++) {
      for (let k = 1; k <= 12; k++) {
        const t = k / 12;
        const [a, b] = [corners[c - 1], corners[c]];
        fire('pointermove', [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t]);
      }
    }
    const lassoStart = performance.now();
    fire('pointerup', corners[0]);
    const lassoMs = performance.now() - lassoStart;
    const lassoSelected = window.timelapse.selected.length;
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    await new Promise((resolve) => requestAnimationFrame(resolve));
    const search = document.getElementById('search');
    search.value = '0-' + (Math.min(5000, ${count}) - 1);
    const panelStart = performance.now();
    search.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    const cells = [...document.querySelectorAll('#thumbs .thumb')];
    const thumbnails = cells.filter((t) => t.style.display !== 'none').length;
    await new Promise((resolve) => requestAnimationFrame(resolve));
    const panelMs = performance.now() - panelStart;
    return { lassoMs, lassoSelected, panelMs, panelSelected: window.timelapse.selected.length, thumbnails };
  })()`);
}

async function measurePlayback(page: import('playwright-core').Page) {
  // A string, not a function: tsx would wrap the inner named function in a helper the page lacks.
  return page.evaluate(`(async () => {
    document.getElementById('speed').value = '4';
    document.getElementById('play').click();
    const intervals = [];
    let last = performance.now();
    const end = last + 3000;
    await new Promise((resolve) => {
      const frame = (now) => {
        intervals.push(now - last);
        last = now;
        if (now < end) requestAnimationFrame(frame);
        else resolve();
      };
      requestAnimationFrame(frame);
    });
    document.getElementById('play').click();
    intervals.sort((a, b) => a - b);
    const mean = intervals.reduce((a, b) => a + b, 0) / intervals.length;
    const p95 = intervals[Math.floor(0.95 * (intervals.length - 1))];
    return { fps: 1000 / mean, p95, frameIndex: window.timelapse.frameIndex };
  })()`) as Promise<{ fps: number; p95: number; frameIndex: number }>;
}
