/** What the player's browser tests share: a short real run, console errors, CSV, video, polygons. */
import type { Page } from 'playwright-core';
import { runCliToEnd } from '../../helpers/cli.ts';

/** A short real training run (three layers of one block, 1,000 images, a checkpoint every 250). */
export async function trainRun(logdir: string, run: string, valSamples: number, seed = 1): Promise<void> {
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
    String(valSamples),
    '--seed',
    String(seed),
    '--logdir',
    logdir,
    '--run',
    run,
  ]);
}

export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  return errors;
}

/** Even-odd rule, as the page's lasso. */
export function inPolygon(x: number, y: number, polygon: readonly (readonly [number, number])[]): boolean {
  let odd = false;
  for (let a = 0, b = polygon.length - 1; a < polygon.length; b = a++) {
    const [xa, ya] = polygon[a]!;
    const [xb, yb] = polygon[b]!;
    if (ya > y !== yb > y && x < ((xb - xa) * (y - ya)) / (yb - ya) + xa) odd = !odd;
  }
  return odd;
}

/** A CSV without quoted commas (the page's numbers and class names). */
export function parseCsv(text: string): { header: string[]; rows: Record<string, string>[] } {
  const [head, ...lines] = text.trimEnd().split('\n');
  const header = head!.split(',');
  return {
    header,
    rows: lines.map((line) => Object.fromEntries(line.split(',').map((value, k) => [header[k]!, value]))),
  };
}

/** Decodes a WebM in the page's own media stack: its duration (s) and frame size. */
export async function decodeVideo(
  page: Page,
  bytes: Uint8Array,
): Promise<{ duration: number; width: number; height: number }> {
  // A string, not a function: tsx would wrap the inner arrow functions in a helper the page lacks.
  const base64 = JSON.stringify(Buffer.from(bytes).toString('base64'));
  return page.evaluate(`(async () => {
    const data = Uint8Array.from(atob(${base64}), (c) => c.charCodeAt(0));
    const video = document.createElement('video');
    video.muted = true;
    video.src = URL.createObjectURL(new Blob([data], { type: 'video/webm' }));
    await new Promise((resolve, reject) => {
      video.onloadedmetadata = resolve;
      video.onerror = () => reject(new Error('the video does not decode: ' + (video.error && video.error.message)));
    });
    // MediaRecorder writes no duration: seeking past the end makes the decoder find it.
    if (!Number.isFinite(video.duration)) {
      video.currentTime = 1e9;
      await new Promise((resolve) => {
        video.ondurationchange = () => Number.isFinite(video.duration) && resolve();
        video.ontimeupdate = () => Number.isFinite(video.duration) && resolve();
      });
    }
    return { duration: video.duration, width: video.videoWidth, height: video.videoHeight };
  })()`);
}
