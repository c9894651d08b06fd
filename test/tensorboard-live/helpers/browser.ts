/**
 * Debian's Chromium driven by playwright-core, showing TensorBoard's own pages: the Images
 * dashboard's step slider and the Projector. Each step leaves a screenshot under
 * `test-artifacts/tensorboard/` for a person to look at.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type FrameLocator, type Page } from 'playwright-core';
import { decodePng } from '../../../src/tensorboard/index.ts';
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from '../../helpers/requirements.ts';

export const ARTIFACTS = new URL('../../../test-artifacts/tensorboard/', import.meta.url).pathname;

export interface Browser {
  page: Page;
  close(): Promise<void>;
}

/** A fresh profile in a temporary directory, removed on close. */
export async function openBrowser(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'chromium-profile-'));
  await mkdir(ARTIFACTS, { recursive: true });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_FLAGS],
      viewport: { width: 1400, height: 1000 },
    });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    page,
    async close() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export interface ShownImage {
  /** The step the card's heading names. */
  step: number;
  /** The bytes of the image the card shows, as the browser fetched them. */
  png: Buffer;
}

/** The image card of `tag` on the Images dashboard, its slider moved with `key` ('Home', 'End'). */
export async function showImageStep(
  page: Page,
  baseUrl: string,
  tag: string,
  key: 'Home' | 'End',
  screenshot: string,
): Promise<ShownImage> {
  if (!page.url().includes('#images')) await page.goto(`${baseUrl}#images`);
  const card = page.locator('tf-image-loader').filter({ hasText: tag });
  await card.waitFor({ timeout: 60_000 });
  const slider = card.locator('#steps');
  await slider.focus();
  await slider.press(key);
  const image = card.locator('#main-image-container img');
  // The card swaps the image source once the new step's image has loaded.
  const wanted = await slider.getAttribute('aria-valuenow');
  await card.locator(`#steps[aria-valuenow="${wanted}"]`).waitFor();
  await image.evaluate(
    (img) =>
      new Promise<void>((resolve) => {
        const element = img as unknown as {
          complete: boolean;
          addEventListener(type: string, listener: () => void): void;
        };
        if (element.complete) resolve();
        else element.addEventListener('load', () => resolve());
      }),
  );
  const step = Number((await card.locator('.heading-label span').first().innerText()).replace(/,/g, ''));
  const src = await image.getAttribute('src');
  if (src === null) throw new Error(`the ${tag} card shows no image`);
  const response = await page.request.get(new URL(src, baseUrl).toString());
  await card.screenshot({ path: join(ARTIFACTS, screenshot) });
  return { step, png: Buffer.from(await response.body()) };
}

/** The projector's own document: TensorBoard → plugin entry → projector_binary.html. */
function projectorFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe').frameLocator('iframe');
}

export interface ProjectorView {
  /** "Points: N | Dimension: D" as the projector reports it. */
  points: number;
  dimension: number;
  /** The legend's class colours (CSS rgb) and how many points each has. */
  legend: { label: string; color: [number, number, number]; count: number }[];
  /** The scatter canvas as shown, PNG. */
  canvas: Buffer;
}

/**
 * Opens `tensorName` in the Projector (PCA, 2-D), coloured by the metadata column `colorBy`,
 * and returns what it shows. The log directory must have one projector run (no run menu).
 */
export async function showProjectorTensor(
  page: Page,
  baseUrl: string,
  tensorName: string,
  colorBy: string,
  screenshot: string,
): Promise<ProjectorView> {
  await page.goto(`${baseUrl}#projector`);
  const frame = projectorFrame(page);
  const tensorMenu = frame.locator('paper-dropdown-menu').filter({ hasText: /step-/ }).first();
  const status = frame.locator('text=/Dimension: \\d+/').first();
  const statusText = () =>
    status.evaluate(
      (element) =>
        (element as unknown as { parentElement: { textContent: string | null } | null }).parentElement?.textContent ??
        '',
    );
  await status.waitFor({ timeout: 60_000 });
  // The first entry is loaded on opening; wait for ours to replace it (its shape differs).
  const before = await statusText();
  await tensorMenu.click();
  await frame.locator('paper-item', { hasText: tensorName }).click();
  for (const deadline = Date.now() + 60_000; (await statusText()) === before;) {
    if (Date.now() > deadline) throw new Error(`the projector still shows "${before}" after choosing ${tensorName}`);
    await page.waitForTimeout(200);
  }
  await frame.locator('#colorby').click();
  await frame.locator('#colorby paper-item', { hasText: new RegExp(`^\\s*${colorBy}\\s`) }).click();
  // Component #3 off: the frame is flat, so the projector's 2-D PCA view shows it as drawn
  // (up to rotation), not as a tilted plane in 3-D.
  const z = frame.locator('#z-checkbox');
  if ((await z.getAttribute('aria-checked')) === 'true') await z.click();
  const legendItems = frame.locator('vz-projector-legend .item');
  await legendItems.first().waitFor();
  // The scatter plot redraws on the next animation frames.
  await page.waitForTimeout(1500);
  await page.screenshot({ path: join(ARTIFACTS, screenshot) });
  const canvasFile = join(ARTIFACTS, screenshot.replace(/\.png$/, '-scatter.png'));
  const canvas = await frame.locator('#scatter').screenshot({ path: canvasFile });
  const shown = await statusText();
  const legend = await legendItems.evaluateAll((items) =>
    items.map((item) => {
      type Found = { textContent: string | null; getAttribute(name: string): string | null } | null;
      const element = item as unknown as { querySelector(selector: string): Found };
      const style = element.querySelector('.shape')?.getAttribute('style') ?? '';
      const rgb = (/rgb\((\d+), (\d+), (\d+)\)/.exec(style) ?? []).slice(1).map(Number);
      return {
        label: (element.querySelector('.label')?.textContent ?? '').trim(),
        color: [rgb[0] ?? 0, rgb[1] ?? 0, rgb[2] ?? 0] as [number, number, number],
        count: Number((element.querySelector('.info')?.textContent ?? '').trim()),
      };
    }),
  );
  const number = (pattern: RegExp) => Number(pattern.exec(shown)?.[1] ?? NaN);
  return { points: number(/Points: (\d+)/), dimension: number(/Dimension: (\d+)/), legend, canvas };
}

function hueAndSaturation(r: number, g: number, b: number): { hue: number; saturation: number; value: number } {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const chroma = max - min;
  let hue = 0;
  if (chroma > 0) {
    if (max === r) hue = ((g - b) / chroma + 6) % 6;
    else if (max === g) hue = (b - r) / chroma + 2;
    else hue = (r - g) / chroma + 4;
  }
  return { hue: hue * 60, saturation: max === 0 ? 0 : chroma / max, value: max / 255 };
}

/**
 * How many canvas pixels carry each legend colour's hue: the projector tints every point's
 * sprite with its class colour, so a tinted pixel keeps the hue of that colour. Grey legend
 * colours have no hue and are left out.
 */
export function pixelsPerLegendColour(canvasPng: Buffer, legend: ProjectorView['legend']): Map<string, number> {
  const image = decodePng(canvasPng);
  const channels = image.channels;
  const counts = new Map<string, number>();
  const hues = legend
    .map((entry) => ({ label: entry.label, ...hueAndSaturation(...entry.color) }))
    .filter((entry) => entry.saturation > 0.3);
  for (const entry of hues) counts.set(entry.label, 0);
  for (let i = 0; i < image.width * image.height; i++) {
    const at = i * channels;
    const pixel = hueAndSaturation(image.pixels[at]!, image.pixels[at + 1]!, image.pixels[at + 2]!);
    if (pixel.saturation < 0.35 || pixel.value < 0.15) continue;
    let best: string | null = null;
    let bestDistance = 12;
    for (const entry of hues) {
      const distance = Math.min(Math.abs(pixel.hue - entry.hue), 360 - Math.abs(pixel.hue - entry.hue));
      if (distance < bestDistance) [best, bestDistance] = [entry.label, distance];
    }
    if (best !== null) counts.set(best, counts.get(best)! + 1);
  }
  return counts;
}
