/**
 * The player's tools in a real browser (Debian's chromium through playwright-core), on the page
 * the real watcher wrote from a short real training run, opened from file://: lasso and the
 * selection panel against the page's data, the CSV export, colour by prediction against the
 * accuracy the watcher recorded, zoom, the URL hash across a reload, and a WebM recording decoded
 * back. About a minute and a half on 2 cores. Screenshots go to test-artifacts/view/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { PAGE_HOOKS_ENV } from '../../src/view/bundle.ts';
import { CHROMIUM_FLAGS, CHROMIUM_PATH, needs } from '../helpers/requirements.ts';
import { REPO_ROOT, runCliToEnd, startCli, until } from '../helpers/cli.ts';
import { collectErrors, decodeVideo, inPolygon, parseCsv, trainRun } from './helpers/player.ts';

// The functions given to page.evaluate run in the page: these are the page's globals, untyped here.
declare const window: any, document: any, location: any;

process.env[PAGE_HOOKS_ENV] = '1';
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'view');
const VAL = 300;

async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => window.timelapse?.ready === true);
  await page.waitForFunction(() => !window.timelapse.animating);
}

test(
  'select, see, export, colour by prediction, zoom, share and record on a real run',
  {
    skip: needs('cifar', 'chromium'),
    timeout: 400_000,
  },
  async (t) => {
    const base = await mkdtemp(join(tmpdir(), 'timelapse-player-'));
    t.after(() => rm(base, { recursive: true, force: true }));
    await mkdir(ARTIFACTS, { recursive: true });
    const logdir = join(base, 'logs');
    await trainRun(logdir, 'a', VAL);
    await trainRun(logdir, 'b', VAL, 2);
    await runCliToEnd(['watch', '--once', '--logdir', logdir, '--val-size', String(VAL), '--inference-threads', '1']);
    const embeddings = join(logdir, 'a', 'embeddings');
    const state = JSON.parse(await readFile(join(embeddings, 'state.json'), 'utf8')) as {
      frames: { step: number; accuracy: number | null }[];
    };
    const pageUrl = pathToFileURL(join(embeddings, 'timelapse.html')).href;

    const { chromium } = await import('playwright-core');
    const profile = await mkdtemp(join(tmpdir(), 'timelapse-chromium-'));
    const context: BrowserContext = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_FLAGS],
      viewport: { width: 1300, height: 800 },
      acceptDownloads: true,
    });
    t.after(async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    });
    const page = await context.newPage();
    const errors = collectErrors(page);
    await page.goto(pageUrl);
    await ready(page);
    const frameCount: number = await page.evaluate(() => window.timelapse.frameCount);
    assert.equal(frameCount, state.frames.length);

    await t.test('a lasso selects exactly the points inside; the panel and the CSV show them', async () => {
      const box = (await page.locator('#scatter').boundingBox())!;
      const cx = Math.round(box.x + box.width / 2);
      const cy = Math.round(box.y + box.height / 2);
      const polygon: [number, number][] = [
        [cx - 220, cy - 200],
        [cx + 60, cy - 240],
        [cx + 200, cy],
        [cx + 20, cy + 90],
        [cx - 180, cy + 60],
      ];
      await page.mouse.move(...polygon[0]!);
      await page.mouse.down();
      for (const vertex of polygon.slice(1)) await page.mouse.move(...vertex);
      await page.mouse.up();
      const screen: { x: number; y: number }[] = await page.evaluate((n) => {
        const out = [];
        for (let i = 0; i < n; i++) out.push(window.timelapse.pointScreen(i));
        return out;
      }, VAL);
      const expected = screen.flatMap((p, i) => (inPolygon(p.x, p.y, polygon) ? [i] : []));
      assert.ok(
        expected.length > 5 && expected.length < VAL,
        `the lasso holds some points, not all: ${expected.length}`,
      );
      assert.deepEqual(await page.evaluate(() => window.timelapse.selected), expected);
      assert.equal(await page.textContent('#selCount'), `${expected.length} selected`);
      const metadata = (await readFile(join(embeddings, 'projector', 'metadata.tsv'), 'utf8'))
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split('\t'));
      const counts = new Map<string, number>();
      for (const i of expected) counts.set(metadata[i]![1]!, (counts.get(metadata[i]![1]!) ?? 0) + 1);
      const shown = await page.$$eval('#selClasses .count', (rows) => rows.map((r) => r.textContent));
      assert.deepEqual(shown.sort(), [...counts].map(([name, count]) => `${name} ${count}`).sort(), 'class counts');
      const thumbs: number[] = await page.$$eval('#thumbs .thumb', (cells) =>
        cells.filter((c) => c.style.display !== 'none').map((c) => Number(c.dataset.point)),
      );
      assert.ok(thumbs.length > 0);
      assert.deepEqual(thumbs, expected.slice(0, thumbs.length), 'thumbnails of the selected points, in order');
      await page.screenshot({ path: join(ARTIFACTS, 'player-selection.png') });

      const download = page.waitForEvent('download');
      await page.click('#selCsv');
      const csv = parseCsv(await readFile((await (await download).path())!, 'utf8'));
      assert.deepEqual(
        csv.rows.map((row) => Number(row.index)),
        expected,
      );
      const steps = state.frames.map((f) => f.step);
      assert.deepEqual(
        csv.header.slice(4),
        steps.flatMap((s) => [`x_${s}`, `y_${s}`]),
      );
      // Every step's coordinates, as the page holds them.
      for (const [k, step] of steps.entries()) {
        const positions: [number, number][] = await page.evaluate(
          ([ids, frame]) => ids.map((i: number) => window.timelapse.position(i, frame)),
          [expected, k] as const,
        );
        csv.rows.forEach((row, r) => {
          assert.equal(Number(row[`x_${step}`]), positions[r]![0]);
          assert.equal(Number(row[`y_${step}`]), positions[r]![1]);
        });
      }
      assert.equal(csv.rows[0]!.test_index, metadata[expected[0]!]![2]);

      await page.locator('#thumbs .thumb').first().click();
      assert.equal(await page.evaluate(() => window.timelapse.pinned), expected[0]);
      assert.equal(await page.evaluate(() => window.timelapse.trailVertexCount), frameCount);
    });

    await t.test('colour by prediction: the legend and colours change; right/wrong matches the accuracy', async () => {
      await page.keyboard.press('Escape');
      await page.keyboard.press('End');
      for (let k = 0; k < frameCount; k++) await page.keyboard.press('ArrowRight');
      await ready(page);
      const before = await page.screenshot();
      const legendBefore = await page.textContent('#legend');
      await page.selectOption('#colourBy', 'predicted');
      assert.notEqual(await page.textContent('#legend'), legendBefore);
      await page.selectOption('#colourBy', 'right');
      await page.waitForTimeout(100);
      assert.notDeepEqual(await page.screenshot(), before, 'the scatter is drawn in other colours');
      const right = Number(await page.getAttribute('#legend', 'data-right'));
      const recorded = state.frames.at(-1)!.accuracy!;
      assert.equal(right, Math.round(recorded * VAL), `right ${right} of ${VAL}, recorded accuracy ${recorded}`);
      await page.screenshot({ path: join(ARTIFACTS, 'player-right-wrong.png') });
    });

    await t.test('zoom in and back; a reload with the hash restores step, selection, zoom and colouring', async () => {
      const box = (await page.locator('#scatter').boundingBox())!;
      const corner = { x: box.x + box.width * 0.25, y: box.y + box.height * 0.25 };
      const probe = 7;
      const far = await page.evaluate((i) => window.timelapse.pointScreen(i), probe);
      await page.mouse.move(corner.x, corner.y);
      await page.mouse.wheel(0, -600);
      await page.waitForTimeout(50);
      const near = await page.evaluate((i) => window.timelapse.pointScreen(i), probe);
      const spread = (p: { x: number; y: number }) => Math.hypot(p.x - corner.x, p.y - corner.y);
      assert.ok(spread(near) > 1.5 * spread(far), 'points move away from the corner zoomed into');
      await page.click('#resetZoom');
      assert.deepEqual(await page.evaluate((i) => window.timelapse.pointScreen(i), probe), far, 'reset');

      await page.fill('#search', 'cat');
      await page.press('#search', 'Enter');
      const cats: number[] = await page.evaluate(() => window.timelapse.selected);
      await page.mouse.move(corner.x, corner.y);
      await page.mouse.wheel(0, -400);
      await page.keyboard.press('ArrowLeft');
      await ready(page);
      await page.waitForTimeout(400);
      const saved = await page.evaluate(() => ({
        step: window.timelapse.step,
        point: window.timelapse.pointScreen(7),
        hash: location.hash,
      }));
      assert.match(saved.hash, /step=\d+&sel=.+&zoom=.+&colour=right/);
      await page.reload();
      await ready(page);
      const restored = await page.evaluate(() => ({
        step: window.timelapse.step,
        point: window.timelapse.pointScreen(7),
        selected: window.timelapse.selected,
        colour: document.getElementById('colourBy').value,
      }));
      assert.equal(restored.step, saved.step);
      assert.deepEqual(restored.selected, cats);
      assert.equal(restored.colour, 'right');
      assert.ok(
        Math.abs(restored.point.x - saved.point.x) < 1 && Math.abs(restored.point.y - saved.point.y) < 1,
        'zoom',
      );
      await page.click('#resetZoom');
    });

    await t.test('the recorded WebM decodes: its duration and frame size', async () => {
      await page.selectOption('#speed', '4');
      const download = page.waitForEvent('download', { timeout: 120_000 });
      await page.click('#record');
      const file = (await (await download).path())!;
      const video = await decodeVideo(page, await readFile(file));
      const size = await page.evaluate(() => {
        const canvas = document.getElementById('scatter');
        return { width: canvas.width, height: canvas.height };
      });
      assert.deepEqual({ width: video.width, height: video.height }, size);
      // Each step at 4×: a 175 ms transition and an 88 ms hold, less the first frame's.
      assert.ok(video.duration > 0.2 * (frameCount - 1), `duration ${video.duration} s for ${frameCount} frames`);
      assert.ok(video.duration < 10, `duration ${video.duration} s`);
    });

    await t.test('two runs of one log directory side by side: one slider, linked hover; view links them', async () => {
      const view = startCli(['view', '--logdir', logdir, '--port', '0']);
      t.after(() => view.process.kill('SIGTERM'));
      const address = () => view.lines.map((line) => /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(line)?.[1]).find(Boolean);
      await until('view to print its address', () => address() !== undefined, 30);
      const side = await context.newPage();
      const sideErrors = collectErrors(side);
      await side.goto(address()!);
      await side.click('a[href^="/a/"][href*="#compare="]');
      await ready(side);
      await side.waitForFunction(() => window.timelapse.compare !== null);
      assert.match(decodeURIComponent(await side.evaluate(() => location.hash)), /compare=\.\.\/\.\.\/b\/embeddings/);
      await side.keyboard.press('ArrowRight');
      await ready(side);
      const linked = await side.evaluate(() => ({ step: window.timelapse.step, other: window.timelapse.compare }));
      assert.equal(linked.other.run, 'b');
      assert.equal(linked.other.step, linked.step, 'the same batch size: the same step is the same images seen');
      const probe = await isolatedInB(side, VAL);
      assert.ok(probe >= 0, 'some point stands alone in the compared run');
      const at = await side.evaluate((i) => window.timelapse.pointScreenB(i), probe);
      await side.mouse.move(at.x, at.y);
      await side.waitForFunction((i) => window.timelapse.hovered === i, probe);
      const metadata = (await readFile(join(embeddings, 'projector', 'metadata.tsv'), 'utf8')).trim().split('\n');
      assert.equal(await side.textContent('#card .idx'), `test image #${metadata[probe + 1]!.split('\t')[2]}`);
      await side.screenshot({ path: join(ARTIFACTS, 'player-side-by-side.png') });
      assert.deepEqual(sideErrors, [], 'no console errors side by side');
      await side.close();
    });

    assert.deepEqual(errors, [], 'no console errors');
  },
);

/** A point of the compared run with no other within 12 px there, so hovering it is unambiguous. */
async function isolatedInB(page: Page, count: number): Promise<number> {
  return page.evaluate((n) => {
    const at = Array.from({ length: n }, (_, i) => window.timelapse.pointScreenB(i) as { x: number; y: number });
    return at.findIndex((p, i) => at.every((q, j) => j === i || (p.x - q.x) ** 2 + (p.y - q.y) ** 2 > 144));
  }, count);
}
