/**
 * The timelapse page in a real browser (Debian's chromium through playwright-core), on a page the
 * real watcher wrote from a short real training run: opened from file:// and through `view`,
 * where a frame the watcher adds while the page is open must appear without a reload.
 * About a minute on 2 cores. Screenshots go to test-artifacts/view/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { parseGif } from '../../src/render/index.ts';
import { PAGE_HOOKS_ENV } from '../../src/view/bundle.ts';
import { formatBytes } from '../../src/view/template.ts';
import { CHROMIUM_FLAGS, CHROMIUM_PATH, needs } from '../helpers/requirements.ts';
import { REPO_ROOT, runCliToEnd, startCli, until } from '../helpers/cli.ts';

// The functions given to page.evaluate run in the page: these are the page's globals, untyped here.
declare const window: any, document: any, getComputedStyle: any, Image: any;

// The watchers this test starts write pages with the test hook (window.timelapse) compiled in.
process.env[PAGE_HOOKS_ENV] = '1';
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'view');
const RUN = 'browser';
const VAL = 200;
const TWEEN = 2;

/** The first checkpoint steps, read from the trainer's folders. */
async function checkpointNames(runDir: string): Promise<string[]> {
  return (await readdir(join(runDir, 'checkpoints'))).filter((n) => /^step-\d{9}$/.test(n)).sort();
}

interface Metadata {
  className: string;
  testIndex: string;
}

async function readMetadata(runDir: string): Promise<Metadata[]> {
  const text = await readFile(join(runDir, 'embeddings', 'projector', 'metadata.tsv'), 'utf8');
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [, className, testIndex] = line.split('\t');
      return { className: className!, testIndex: testIndex! };
    });
}

function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  return errors;
}

async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => window.timelapse?.ready === true);
}

async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() => !window.timelapse.animating);
}

/** A point with no other point within 12 px on screen now, so hovering it is unambiguous. */
async function isolatedPoint(page: Page): Promise<number> {
  return page.evaluate(() => {
    const t = window.timelapse;
    const count = Number(document.getElementById('points')!.textContent!.split(' ')[0]!.replace(/,/g, ''));
    const at = Array.from({ length: count }, (_, i) => t.pointScreen(i) as { x: number; y: number });
    for (let i = 0; i < count; i++) {
      if (at.every((p, j) => j === i || (p.x - at[i]!.x) ** 2 + (p.y - at[i]!.y) ** 2 > 144)) return i;
    }
    return -1;
  });
}

function rawStatus(url: string, path: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}

test(
  'the timelapse page of a real run plays, hovers, pins and follows new frames in chromium',
  {
    skip: needs('cifar', 'chromium'),
    timeout: 300_000,
  },
  async (t) => {
    const base = await mkdtemp(join(tmpdir(), 'timelapse-browser-'));
    t.after(() => rm(base, { recursive: true, force: true }));
    await mkdir(ARTIFACTS, { recursive: true });
    const logdir = join(base, 'logs');
    const runDir = join(logdir, RUN);
    await runCliToEnd([
      'train',
      '--blocks',
      '1,1,1',
      '--max-samples',
      '1000',
      '--batch-size',
      '50',
      '--checkpoint-every',
      '250',
      '--val-samples',
      '200',
      '--logdir',
      logdir,
      '--run',
      RUN,
    ]);
    const names = await checkpointNames(runDir);
    assert.ok(names.length >= 3, `checkpoints: ${names.join(', ')}`);
    // The last checkpoint is held back (a hidden name is not a checkpoint) to arrive later.
    const lastName = names.at(-1)!;
    const held = join(runDir, 'checkpoints', `.held-${lastName}`);
    await rename(join(runDir, 'checkpoints', lastName), held);
    const watchArgs = [
      'watch',
      '--once',
      '--logdir',
      logdir,
      '--val-size',
      String(VAL),
      '--inference-threads',
      '1',
      '--gif-tween',
      String(TWEEN),
    ];
    await runCliToEnd(watchArgs);
    const firstCount = names.length - 1;
    const steps = names.slice(0, firstCount).map((n) => Number(n.slice(5)));

    // The GIF: one key frame per checkpoint, TWEEN labelled tween frames before each but the first.
    const gif = parseGif(new Uint8Array(await readFile(join(runDir, 'embeddings', 'images', 'animation.gif'))));
    assert.deepEqual(
      gif.frames.filter((f) => !f.tween).map((f) => f.step),
      steps,
    );
    assert.equal(gif.frames.filter((f) => f.tween).length, TWEEN * (firstCount - 1));

    const metadata = await readMetadata(runDir);
    assert.equal(metadata.length, VAL);
    const { chromium } = await import('playwright-core');
    const profile = await mkdtemp(join(tmpdir(), 'timelapse-chromium-'));
    const context: BrowserContext = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_FLAGS],
      viewport: { width: 1200, height: 760 },
    });
    t.after(async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    });

    await t.test('from file://: slider, play, hover, pin, legend, charts, keys', async () => {
      const page = await context.newPage();
      const errors = collectErrors(page);
      await page.goto(pathToFileURL(join(runDir, 'embeddings', 'timelapse.html')).href);
      await ready(page);
      const hook = () =>
        page.evaluate(() => {
          const t = window.timelapse;
          return {
            step: t.step,
            frameIndex: t.frameIndex,
            frameCount: t.frameCount,
            steps: t.steps,
            playing: t.playing,
          };
        });
      assert.deepEqual((await hook()).steps, steps);
      const slider = await page.evaluate(() => {
        const s = document.getElementById('slider');
        return { min: s.min, max: s.max, step: s.step };
      });
      assert.deepEqual(slider, { min: '0', max: String(firstCount - 1), step: '1' }, 'one slider position per frame');
      assert.match((await page.textContent('header')) ?? '', /page \d+(\.\d)? KB/, 'the page says its size');

      await page.click('#play');
      await page.waitForFunction(() => window.timelapse.frameIndex > 0, undefined, { timeout: 10_000 });
      await page.click('#play');
      assert.equal((await hook()).playing, false);

      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('ArrowLeft');
      await settled(page);
      assert.equal((await hook()).frameIndex, 0);
      await page.keyboard.press('ArrowRight');
      await settled(page);
      assert.equal((await hook()).step, steps[1]);

      const point = await isolatedPoint(page);
      assert.ok(point >= 0, 'some point stands alone');
      const at = await page.evaluate((i) => window.timelapse.pointScreen(i), point);
      await page.mouse.move(at.x, at.y);
      await page.waitForFunction((i) => window.timelapse.hovered === i, point);
      assert.equal(await page.textContent('#card .cls'), metadata[point]!.className);
      assert.equal(await page.textContent('#card .idx'), `test image #${metadata[point]!.testIndex}`);
      const thumb = await page.evaluate((i) => {
        const style = getComputedStyle(document.getElementById('thumb')!);
        return {
          image: style.backgroundImage,
          position: style.backgroundPosition,
          shown: document.getElementById('card')!.offsetWidth > 0,
          i,
        };
      }, point);
      const side = Math.ceil(Math.sqrt(VAL));
      assert.ok(thumb.shown, 'the hover card is shown');
      assert.match(thumb.image, /projector\/sprite\.png/);
      assert.equal(
        thumb.position,
        `${-(point % side) * 64}px ${-Math.floor(point / side) * 64}px`,
        'the tile of this point',
      );
      const spriteWidth = await page.evaluate(
        () =>
          new Promise<number>((resolve) => {
            const image = new Image();
            image.onload = () => resolve(image.naturalWidth);
            image.onerror = () => resolve(-1);
            image.src = 'projector/sprite.png';
          }),
      );
      assert.equal(spriteWidth, side * 32, 'the sprite beside the page loads from file://');
      await page.screenshot({ path: join(ARTIFACTS, 'file-hover.png') });

      await page.mouse.click(at.x, at.y);
      const pinned = await page.evaluate(() => ({
        pinned: window.timelapse.pinned,
        vertices: window.timelapse.trailVertexCount,
      }));
      assert.deepEqual(pinned, { pinned: point, vertices: firstCount }, 'a trail vertex per frame');

      await page.click('#legend .item[data-class="3"]');
      assert.equal(await page.evaluate(() => window.timelapse.highlight), 3);
      await page.dblclick('#legend .item[data-class="8"]');
      assert.equal(await page.evaluate(() => window.timelapse.isolate), 8);
      await page.screenshot({ path: join(ARTIFACTS, 'file-isolated-pinned.png') });
      await page.dblclick('#legend .item[data-class="8"]');
      assert.equal(await page.evaluate(() => window.timelapse.isolate), -1);

      const chart = await page.locator('canvas[data-metric="neighborhoodHit"]').boundingBox();
      await page.mouse.click(chart!.x + chart!.width - 2, chart!.y + chart!.height / 2);
      assert.equal(
        (await hook()).frameIndex,
        firstCount - 1,
        'a click at the right end of a chart jumps to the last step',
      );
      await page.keyboard.press(' ');
      assert.equal((await hook()).playing, true);
      await page.keyboard.press(' ');
      assert.deepEqual(errors, [], 'no console errors');
      await page.close();
    });

    await t.test('through view: lists the run, refuses escapes, shows a new frame without a reload', async () => {
      const view = startCli(['view', '--logdir', logdir, '--port', '0']);
      t.after(() => view.process.kill('SIGTERM'));
      const address = () => view.lines.map((line) => /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(line)?.[1]).find(Boolean);
      await until(
        'view to print its address',
        () => {
          if (view.process.exitCode !== null) throw new Error(`view exited with ${view.process.exitCode}`);
          return address() !== undefined;
        },
        30,
      );
      const url = address()!;
      for (const escape of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd']) {
        assert.ok([403, 404].includes(await rawStatus(url, escape)), escape);
      }
      assert.equal(await rawStatus(url, '//etc/passwd'), 404);

      const page = await context.newPage();
      const errors = collectErrors(page);
      await page.goto(url);
      await page.click(`a:text("${RUN}")`);
      await ready(page);
      assert.equal(await page.evaluate(() => window.timelapse.frameCount), firstCount);
      await page.evaluate(() => (window.marker = 'same document'));

      await rename(held, join(runDir, 'checkpoints', lastName));
      await runCliToEnd(watchArgs);
      await page.waitForFunction((n) => window.timelapse.frameCount === n, names.length, { timeout: 20_000 });
      const after = await page.evaluate(() => ({
        marker: window.marker,
        max: document.getElementById('slider').max,
        steps: window.timelapse.steps,
      }));
      assert.deepEqual(after, {
        marker: 'same document',
        max: String(names.length - 1),
        steps: names.map((n) => Number(n.slice(5))),
      });
      const pageBytes = (await stat(join(runDir, 'embeddings', 'timelapse.html'))).size;
      assert.equal(await page.textContent('#size'), formatBytes(pageBytes), "the size shown is the new page's");
      await settled(page);
      await page.screenshot({ path: join(ARTIFACTS, 'view-live.png') });
      assert.deepEqual(errors, [], 'no console errors');
      await page.close();
    });
  },
);
