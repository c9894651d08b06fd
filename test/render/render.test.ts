import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadImage } from '@napi-rs/canvas';
import {
  CLASS_COLORS,
  GIF_PALETTE,
  changedRegion,
  GifWriter,
  drawScatter,
  easeInOut,
  indexPixels,
  parseGif,
  renderScatter,
  scatterLayout,
  tweenPositions,
} from '../../src/render/index.ts';
import { isUserError } from '../../src/errors.ts';
import { Random } from '../../src/util/random.ts';
import { decodeGif } from './gif-decoder.ts';

const classNames = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** Ten tight clusters on a circle: class k around angle 2πk/10. */
function clusters(n: number, spin = 0): { points: Float64Array; labels: Uint8Array } {
  const points = new Float64Array(2 * n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % 10;
    labels[i] = k;
    const angle = (2 * Math.PI * k) / 10 + spin;
    points[2 * i] = 2 * Math.cos(angle) + 0.1 * Math.sin(i * 12.9898);
    points[2 * i + 1] = 2 * Math.sin(angle) + 0.1 * Math.cos(i * 78.233);
  }
  return { points, labels };
}

function pixel(image: { rgba: Uint8Array; width: number }, x: number, y: number): number[] {
  const at = 4 * (Math.round(y) * image.width + Math.round(x));
  return [image.rgba[at]!, image.rgba[at + 1]!, image.rgba[at + 2]!];
}

test('renderScatter writes an 800×600 PNG that decodes', async () => {
  const png = renderScatter({ ...clusters(500), classNames, title: 'step 1', caption: 'validation accuracy 10.0%' });
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const image = await loadImage(png);
  assert.equal(image.width, 800);
  assert.equal(image.height, 600);
});

test('points land where the fixed [-3, 3] axes put them, in their class colour', () => {
  // One big cluster of class 3 at (2, 2) and nothing else: the pixel there must be class 3's
  // colour, and an empty spot between grid lines must be the axes face.
  const n = 400;
  const points = new Float64Array(2 * n).fill(2);
  const labels = new Uint8Array(n).fill(3);
  const image = drawScatter({ points, labels, classNames, title: 't' });
  const withBlue = drawScatter({ points, labels: new Uint8Array(n).fill(0), classNames, title: 't' });
  const { left, top, size } = scatterLayout(image.width, image.height);
  const at = (x: number, y: number) => [left + ((x + 3) / 6) * size, top + ((3 - y) / 6) * size] as const;
  assert.deepEqual(pixel(image, ...at(2, 2)), [...CLASS_COLORS[3]!]);
  assert.deepEqual(pixel(withBlue, ...at(2, 2)), [...CLASS_COLORS[0]!]);
  assert.deepEqual(pixel(image, ...at(-2.5, -1.5)), [234, 234, 242]);
});

test('points outside the axes are clipped, not drawn over the legend', () => {
  const inside = drawScatter({ points: Float64Array.of(0, 0), labels: Uint8Array.of(1), classNames, title: 't' });
  const outside = drawScatter({
    points: Float64Array.of(0, 0, 50, 0, 4, 4),
    labels: Uint8Array.of(1, 1, 1),
    classNames,
    title: 't',
  });
  assert.deepEqual(outside.rgba, inside.rgba);
});

test('renderScatter refuses points and labels of different lengths', () => {
  assert.throws(
    () => renderScatter({ points: new Float64Array(6), labels: new Uint8Array(2), classNames, title: 't' }),
    /3 points but 2 labels/,
  );
});

test('indexPixels maps exact palette colours to their entries and blends to a near one', () => {
  const rgba = new Uint8Array(4 * 3);
  rgba.set([...GIF_PALETTE[7]!, 255], 0);
  rgba.set([...GIF_PALETTE[12]!, 255], 4);
  rgba.set([0x48 + 3, 0x78 - 2, 0xd0 + 1, 255], 8);
  assert.deepEqual([...indexPixels(rgba)], [7, 12, 6]);
});

test('indexPixels gives every one of 30,000 distinct colours its nearest entry, on a first and a second call', () => {
  const random = new Random(3);
  const count = 30_000;
  const rgba = new Uint8Array(4 * count);
  for (let t = 0; t < rgba.length; t++) rgba[t] = Math.floor(random.next() * 256);
  const nearest = (r: number, g: number, b: number) => {
    const distances = GIF_PALETTE.map(([pr, pg, pb]) => 2 * (r - pr) ** 2 + 4 * (g - pg) ** 2 + 3 * (b - pb) ** 2);
    return distances.indexOf(Math.min(...distances));
  };
  const expected = Array.from({ length: count }, (_, i) => nearest(rgba[4 * i]!, rgba[4 * i + 1]!, rgba[4 * i + 2]!));
  assert.deepEqual([...indexPixels(rgba)], expected);
  // The second call answers from the kept table.
  assert.deepEqual([...indexPixels(rgba)], expected);
});

test('GifWriter appends frames without touching earlier bytes, 300 ms each, looping', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gif-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'animation.gif');
  const gif = new GifWriter(path);
  const frames = [0, 1, 2].map((k) =>
    drawScatter({ ...clusters(300, k * 0.3), classNames, title: `step ${k}`, width: 400, height: 300 }),
  );
  assert.equal(await gif.append(frames[0]!, 1000), 'appended');
  const afterOne = new Uint8Array(await readFile(path));
  assert.equal(await gif.append(frames[1]!, 2000), 'appended');
  const afterTwo = new Uint8Array(await readFile(path));
  // Everything but the trailer of the one-frame file is a prefix of the two-frame file.
  assert.deepEqual(afterTwo.subarray(0, afterOne.length - 1), afterOne.subarray(0, afterOne.length - 1));
  assert.equal(afterTwo.at(-1), 0x3b);

  // A restarted watcher redoing step 2000 does not add it again; a later step is added.
  assert.equal(await gif.append(frames[1]!, 2000), 'already-present');
  assert.equal(await gif.append(frames[1]!, 1500), 'already-present');
  assert.equal(await gif.append(frames[2]!, 3000), 'appended');
  assert.deepEqual(await gif.steps(), [1000, 2000, 3000]);

  const decoded = decodeGif(new Uint8Array(await readFile(path)));
  assert.equal(decoded.width, 400);
  assert.equal(decoded.loopCount, 0);
  assert.deepEqual(
    decoded.palette,
    GIF_PALETTE.map((c) => [...c]),
  );
  assert.deepEqual(
    decoded.decoded.map((f) => f.delayMs),
    [300, 300, 300],
  );
  decoded.decoded.forEach((frame, k) =>
    assert.deepEqual(frame.indices, indexPixels(frames[k]!.rgba), `frame ${k} pixels`),
  );
});

test('GifWriter refuses a frame of another size and reports a damaged file with its offset', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gif-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'a.gif');
  const gif = new GifWriter(path);
  await gif.append(drawScatter({ ...clusters(50), classNames, title: 't', width: 200, height: 150 }), 1);
  await assert.rejects(
    gif.append(drawScatter({ ...clusters(50), classNames, title: 't', width: 300, height: 150 }), 2),
    /200×150/,
  );
  const bytes = await readFile(path);
  await writeFile(path, bytes.subarray(0, bytes.length - 40));
  await assert.rejects(
    gif.append(drawScatter({ ...clusters(50), classNames, title: 't', width: 200, height: 150 }), 2),
    (error) => {
      return isUserError(error) && /not a complete GIF \(truncated data at byte \d+\)/.test((error as Error).message);
    },
  );
  assert.throws(() => parseGif(new Uint8Array(20)), /no GIF signature at byte 0/);
});

test('tween frames go in with their key frame in one write, labelled, never doubled or lost on restart', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gif-tween-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'animation.gif');
  const from = clusters(200, 0);
  const to = clusters(200, 0.6);
  const draw = (points: Float64Array, title: string) =>
    drawScatter({ points, labels: from.labels, classNames, title, width: 320, height: 240 });
  const tweens = [1, 2, 3].map((k) => draw(tweenPositions(from.points, to.points, k, 3), `tween ${k}`));
  const gif = new GifWriter(path);
  assert.equal(await gif.append(draw(from.points, 'a'), 100), 'appended');
  assert.equal(await gif.append(draw(to.points, 'b'), 200, tweens), 'appended');
  const before = await readFile(path);
  // A restarted watcher redoing step 200 with its tweens changes nothing.
  assert.equal(await gif.append(draw(to.points, 'b'), 200, tweens), 'already-present');
  assert.deepEqual(await readFile(path), before);
  assert.deepEqual(await gif.steps(), [100, 200], 'steps() lists key frames only');

  const decoded = decodeGif(new Uint8Array(before));
  const labels = decoded.frames.map((f) => (f.tween ? `${f.tween.index}/${f.tween.count}>${f.tween.step}` : f.step));
  assert.deepEqual(labels, [100, '1/3>200', '2/3>200', '3/3>200', 200]);
  assert.deepEqual(
    decoded.decoded.map((f) => f.delayMs),
    [300, 50, 50, 50, 300],
  );
  decoded.decoded.slice(1, 4).forEach((frame, k) => {
    assert.deepEqual(frame.indices, indexPixels(tweens[k]!.rgba), `tween ${k + 1} pixels`);
  });
});

test('changedRegion is the smallest rectangle around the pixels that differ, 1 × 1 when none does', () => {
  const blank = () => ({ rgba: new Uint8Array(4 * 40 * 30).fill(255), width: 40, height: 30 });
  const before = blank();
  const after = blank();
  after.rgba[4 * (5 * 40 + 7) + 1] = 0; // (7, 5)
  after.rgba[4 * (20 * 40 + 33) + 3] = 0; // (33, 20), only its alpha
  assert.deepEqual(changedRegion(before, after), { left: 7, top: 5, width: 27, height: 16 });
  assert.deepEqual(changedRegion(before, blank()), { left: 0, top: 0, width: 1, height: 1 });
  // RGBA bytes that do not start on a 4-byte boundary are compared as well.
  const shifted = new Uint8Array(after.rgba.length + 1).subarray(1);
  shifted.set(after.rgba);
  assert.deepEqual(changedRegion(before, { ...after, rgba: shifted }), { left: 7, top: 5, width: 27, height: 16 });
});

test('a writer writes only what changed after its first picture, a new one starts whole', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gif-region-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'animation.gif');
  const { labels } = clusters(200);
  const at = (spin: number) => clusters(200, spin).points;
  const draw = (points: Float64Array, title: string) =>
    drawScatter({ points, labels, classNames, title, width: 320, height: 240 });
  const tweens = [1, 2].map((k) => draw(tweenPositions(at(0), at(0.5), k, 2), 'step 1 → 2'));
  const pictures = [draw(at(0), 'step 1'), ...tweens, draw(at(0.5), 'step 2'), draw(at(1), 'step 3')];
  const writer = new GifWriter(path);
  await writer.append(pictures[0]!, 1);
  await writer.append(pictures[3]!, 2, tweens);
  // A restarted watcher: a new writer does not know the picture at the file's end.
  await new GifWriter(path).append(pictures[4]!, 3);

  const decoded = decodeGif(new Uint8Array(await readFile(path)));
  const regions = decoded.decoded.map((frame) => frame.region);
  const whole = { left: 0, top: 0, width: 320, height: 240 };
  assert.deepEqual(regions[0], whole);
  assert.deepEqual(regions[4], whole, 'the new writer writes its first picture whole');
  for (const k of [1, 2, 3]) {
    const { width, height } = regions[k]!;
    assert.ok(width * height < 0.8 * 320 * 240, `picture ${k} covers ${width} × ${height}`);
  }
  decoded.decoded.forEach((frame, k) =>
    assert.deepEqual(frame.indices, indexPixels(pictures[k]!.rgba), `screen after picture ${k}`),
  );
});

test('tween positions ease from one frame to the next without reaching either end', () => {
  const from = Float64Array.from([0, 0, 10, -10]);
  const to = Float64Array.from([1, 2, 10, 10]);
  const middle = tweenPositions(from, to, 2, 3);
  assert.deepEqual([...middle], [0.5, 1, 10, 0]);
  const xs = [1, 2, 3].map((k) => tweenPositions(from, to, k, 3)[0]!);
  assert.ok(xs[0]! > 0 && xs[0]! < xs[1]! && xs[1]! < xs[2]! && xs[2]! < 1, `monotone inside (0, 1): ${xs.join(', ')}`);
  assert.ok(Math.abs(easeInOut(0.25) + easeInOut(0.75) - 1) < 1e-12, 'symmetric');
});
