/**
 * Benchmark of the timelapse page (issue 14): `npm run bench:view [-- --points 10000] [-- --frames 100] [-- --json]`.
 *
 * Builds the page of a synthetic run (ten clusters drifting apart, seeded) with the watcher's own
 * encoder and template, prints its size and the time to build it, then opens it from file:// in
 * Debian's chromium (headless, no GPU: software canvas) and measures:
 *   - load: navigation until the page's data is decoded and drawn (`timelapse.ready`);
 *   - draw: one animation frame's work (interpolate every point, draw the scatter), averaged;
 *   - playback: requestAnimationFrame intervals while playing at 4× speed (frames per second);
 *   - hover: one mousemove over the scatter (nearest point among all, hover card).
 * Without chromium it prints the size only. Numbers, no assertions; exits 0.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createGaussian } from '../src/util/random.ts';
import { encodeTimelapse, type TimelapseFrame } from '../src/view/encode.ts';
import { formatBytes, renderTimelapseHtml } from '../src/view/template.ts';
// The browser tests' Chromium, launched the same way.
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from '../test/helpers/requirements.ts';

// The functions given to page.evaluate run in the page: these are the page's globals, untyped here.
declare const window: any, document: any, MouseEvent: any;

const args = process.argv.slice(2);
const json = args.includes('--json');
const points = Number(valueOf('--points') ?? 10000);
const frameCount = Number(valueOf('--frames') ?? 100);
const CLASS_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

function valueOf(flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at >= 0 ? args[at + 1] : undefined;
}

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
const buildStart = performance.now();
const data = encodeTimelapse({
  run: 'bench',
  classNames: CLASS_NAMES,
  labels,
  testIndices: Uint32Array.from({ length: points }, (_, i) => i),
  frames,
  sprite: null,
});
const html = renderTimelapseHtml(data);
const buildMs = performance.now() - buildStart;
const bytes = Buffer.byteLength(html);
emit(
  { event: 'page', points, frames: frameCount, bytes, buildMs },
  `page: ${points.toLocaleString('en-US')} points × ${frameCount} frames = ${formatBytes(bytes)} ` +
    `(${(bytes / points / frameCount).toFixed(2)} bytes per point per frame), built in ${buildMs.toFixed(0)} ms`,
);

if (!existsSync(CHROMIUM_PATH)) {
  emit(
    { event: 'skipped', reason: `no chromium at ${CHROMIUM_PATH}` },
    `browser measures skipped: no chromium at ${CHROMIUM_PATH}`,
  );
  process.exit(0);
}

const dir = await mkdtemp(join(tmpdir(), 'bench-view-'));
try {
  const file = join(dir, 'timelapse.html');
  await writeFile(file, html);
  const { chromium } = await import('playwright-core');
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_FLAGS],
    viewport: { width: 1280, height: 800 },
  });
  try {
    const page = await context.newPage();
    const loadStart = performance.now();
    await page.goto(pathToFileURL(file).href);
    await page.waitForFunction(() => window.timelapse?.ready === true, undefined, { timeout: 120_000 });
    const loadMs = performance.now() - loadStart;
    const drawMs = await page.evaluate(() => window.timelapse.measureDraw(60) as number);
    // A string, not a function: tsx would wrap the inner named function in a helper the page lacks.
    const playback: { fps: number; p95: number; frameIndex: number } = await page.evaluate(`(async () => {
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
    })()`);
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
    emit(
      {
        event: 'browser',
        loadMs,
        drawMs,
        fps: playback.fps,
        p95IntervalMs: playback.p95,
        hoverMs,
        framesPlayed: playback.frameIndex,
      },
      [
        `load (file://, decode, first draw): ${loadMs.toFixed(0)} ms`,
        `draw one animation frame (interpolate + scatter): ${drawMs.toFixed(1)} ms`,
        `playback at 4×: ${playback.fps.toFixed(1)} frames/s, 95th-percentile frame interval ` +
          `${playback.p95.toFixed(1)} ms (reached frame ${playback.frameIndex + 1})`,
        `hover (nearest of ${points.toLocaleString('en-US')} points + card): ${hoverMs.toFixed(2)} ms`,
      ].join('\n'),
    );
  } finally {
    await context.close();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
