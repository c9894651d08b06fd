import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  QUANT_MAX,
  decodeUint16,
  dequantise,
  encodeHeader,
  encodeTimelapse,
  type FrameChunk,
  type TimelapseFrame,
} from '../../src/view/encode.ts';
import { PAGE_HOOKS_ENV } from '../../src/view/bundle.ts';
import { TimelapsePage } from '../../src/view/page.ts';
import { formatBytes, renderTimelapseHtml } from '../../src/view/template.ts';
import { frameToTsv } from '../../src/watch/state.ts';
import { createRandom } from '../../src/util/random.ts';

function frames(count: number, steps: number[], seed = 1): TimelapseFrame[] {
  const random = createRandom(seed);
  return steps.map((step, k) => ({
    step,
    positions: Float64Array.from({ length: 2 * count }, () => 6 * random() - 3 + k * 0.1),
    accuracy: k % 2 === 0 ? 0.1 * k : null,
    neighborhoodHit: 0.2,
    knnPreservation: 0.5,
    displacement: k === 0 ? 0 : 0.3,
  }));
}

function dataBlock(html: string): ReturnType<typeof encodeTimelapse> {
  const match = /<script id="timelapse-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(match, 'the page holds its data block');
  return JSON.parse(match[1]!) as ReturnType<typeof encodeTimelapse>;
}

/** What the page at `path` shows: its header and every frame of the chunk files its index names. */
async function pageData(path: string): Promise<ReturnType<typeof encodeTimelapse>> {
  const header = dataBlock(await readFile(path, 'utf8'));
  const dir = join(dirname(path), header.chunkDir!);
  const call = (text: string) => JSON.parse(text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'))) as unknown;
  const index = call(await readFile(join(dir, 'index.js'), 'utf8')) as { chain: string; chunks: number };
  const chunks: FrameChunk[] = [];
  for (let k = 0; k < index.chunks; k++) {
    chunks.push(call(await readFile(join(dir, `frames-${String(k).padStart(6, '0')}.js`), 'utf8')) as FrameChunk);
  }
  // One quantisation for the whole page: new frames that fit reuse the bounds of the frames before.
  const bounds = chunks[0]!.bounds;
  assert.ok(chunks.every((c) => c.chain === header.chain && JSON.stringify(c.bounds) === JSON.stringify(bounds)));
  return {
    ...header,
    steps: chunks.flatMap((c) => c.steps),
    frames: chunks.flatMap((c) => c.frames),
    bounds,
    metrics: {},
    predictions: chunks.flatMap((c) => c.predictions),
  };
}

test('frames are quantised to 16 bits over the bounds of all frames, within half a code of the watcher frames', () => {
  const input = frames(50, [0, 100, 200]);
  const data = encodeTimelapse({
    run: 'r',
    classNames: ['a', 'b'],
    labels: new Uint8Array(50),
    testIndices: new Int32Array(50),
    frames: input,
    sprite: null,
  });
  assert.deepEqual(data.steps, [0, 100, 200]);
  const { bounds } = data;
  const halfCode = Math.max(bounds.maxX - bounds.minX, bounds.maxY - bounds.minY) / QUANT_MAX / 2;
  input.forEach((frame, k) => {
    const codes = decodeUint16(data.frames[k]!);
    assert.equal(codes.length, 100);
    const back = dequantise(codes, bounds);
    for (let i = 0; i < back.length; i++)
      assert.ok(Math.abs(back[i]! - frame.positions[i]!) <= halfCode + 1e-12, `coordinate ${i}`);
  });
  assert.deepEqual(data.metrics.accuracy, [0, null, 0.2]);
  // 4 bytes per point per frame, as base64.
  assert.equal(Buffer.from(data.frames[0]!, 'base64').length, 4 * 50);
});

test('the page is self-contained, escapes its data, and states its own size exactly', () => {
  const data = encodeTimelapse({
    run: 'run </script><b>',
    classNames: ['cat</script>', 'dog'],
    labels: Uint8Array.from([0, 1, 1]),
    testIndices: Int32Array.from([7, 9000, 12]),
    frames: frames(3, [5]),
    sprite: { src: 'projector/sprite.png', tile: 32, side: 2 },
  });
  const html = renderTimelapseHtml(data);
  const bytes = Buffer.byteLength(html);
  const stated = /data-size="([^"]+)"/.exec(html)?.[1];
  assert.equal(stated, formatBytes(bytes));
  assert.doesNotMatch(
    html,
    /<script[^>]+src=|<link(?! rel="icon" href="data:,">)|https?:\/\//,
    'nothing loaded from elsewhere',
  );
  assert.equal(html.match(/<\/script>/g)!.length, 3, 'the names cannot close a script block');
  assert.deepEqual(dataBlock(html).classNames, ['cat</script>', 'dog']);
});

test('the page is written atomically; a new TimelapsePage (restarted watcher) rebuilds it from frames', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'timelapse-page-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const count = 4;
  const points = {
    labels: Uint8Array.from([0, 1, 2, 1]),
    testIndices: Int32Array.from([3, 1, 4, 1]),
    classNames: ['a', 'b', 'c'],
    count,
  };
  const made = frames(count, [0, 10, 20]);
  const frameFile = (step: number) => join(dir, 'frames', `step-${step}.tsv`);
  await mkdir(join(dir, 'frames'));
  for (const frame of made) await writeFile(frameFile(frame.step), frameToTsv(Float64Array.from(frame.positions)));
  const records = made.map(({ positions: _, ...rest }) => rest);

  const first = new TimelapsePage({ run: 'r', embeddingsDir: dir, points, frameFile });
  await first.update(records.slice(0, 2), { step: 10, positions: made[1]!.positions });
  assert.deepEqual((await pageData(first.path)).steps, [0, 10]);
  assert.deepEqual((await readdir(dir)).sort(), ['frames', 'page', 'timelapse.html'], 'no temporary file left');
  assert.deepEqual(
    (await readdir(join(dir, 'page'))).sort(),
    ['frames-000000.js', 'header.js', 'index.js'],
    'nor beside the page',
  );

  const restarted = new TimelapsePage({ run: 'r', embeddingsDir: dir, points, frameFile });
  await restarted.update(records);
  const data = await pageData(restarted.path);
  assert.deepEqual(data.steps, [0, 10, 20]);
  assert.deepEqual(data.sprite, { src: 'projector/sprite.png', tile: 32, side: 2 });
  const back = dequantise(decodeUint16(data.frames[2]!), data.bounds);
  assert.ok(Math.abs(back[3]! - made[2]!.positions[3]!) < 1e-3);

  await writeFile(frameFile(20), '1\t2\n');
  // Frames already in the page are never read again: without its data files, the page is rebuilt
  // from the frame files, and a damaged one is named.
  await rm(join(dir, 'page'), { recursive: true });
  await assert.rejects(
    new TimelapsePage({ run: 'r', embeddingsDir: dir, points, frameFile }).update(records),
    /step-20\.tsv is 1 × 2, expected 4 × 2/,
  );
});

test('the writer appends: a new frame is one new chunk file, earlier chunks are not rewritten', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'timelapse-append-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const count = 50;
  const points = { labels: new Uint8Array(count), testIndices: new Int32Array(count), classNames: ['a'], count };
  const made = frames(count, [0, 10, 20]);
  const records = made.map(({ positions: _, ...rest }) => rest);
  const page = new TimelapsePage({ run: 'r', embeddingsDir: dir, points, frameFile: () => join(dir, 'none.tsv') });
  await page.update(records.slice(0, 1), { step: 0, positions: made[0]!.positions });
  await page.update(records.slice(0, 2), { step: 10, positions: made[1]!.positions });
  const chunkDir = join(dir, 'page');
  const before = new Map<string, { text: string; mtimeMs: number }>();
  for (const name of await readdir(chunkDir)) {
    before.set(name, {
      text: await readFile(join(chunkDir, name), 'utf8'),
      mtimeMs: (await stat(join(chunkDir, name))).mtimeMs,
    });
  }
  const html = await stat(page.path);
  await new Promise((resolve) => setTimeout(resolve, 20));
  await page.update(records, { step: 20, positions: made[2]!.positions, predictions: new Uint8Array(count).fill(0) });
  const after = (await readdir(chunkDir)).sort();
  assert.deepEqual(after, ['frames-000000.js', 'frames-000001.js', 'frames-000002.js', 'header.js', 'index.js']);
  for (const name of ['frames-000000.js', 'frames-000001.js', 'header.js']) {
    const now = await stat(join(chunkDir, name));
    assert.equal(now.mtimeMs, before.get(name)!.mtimeMs, `${name} is not rewritten`);
  }
  assert.equal((await stat(page.path)).mtimeMs, html.mtimeMs, 'nor is the page');
  const data = await pageData(page.path);
  assert.deepEqual(data.steps, [0, 10, 20]);
  assert.deepEqual(data.predictions, [null, null, Buffer.alloc(count).toString('base64')], 'one byte per point');
});

test("a user's page carries no test hook; a page written for tests does", () => {
  const header = encodeHeader({
    run: 'r',
    classNames: ['a'],
    labels: new Uint8Array(2),
    testIndices: [1, 2],
    sprite: null,
  });
  const saved = process.env[PAGE_HOOKS_ENV];
  try {
    delete process.env[PAGE_HOOKS_ENV];
    assert.doesNotMatch(renderTimelapseHtml(header), /measureDraw|trailVertexCount/);
    process.env[PAGE_HOOKS_ENV] = '1';
    assert.match(renderTimelapseHtml(header), /measureDraw/);
  } finally {
    if (saved === undefined) delete process.env[PAGE_HOOKS_ENV];
    else process.env[PAGE_HOOKS_ENV] = saved;
  }
});

test('metadata columns go into the header, one value per point', () => {
  const input = { run: 'r', classNames: ['a'], labels: new Uint8Array(2), testIndices: [1, 2], sprite: null };
  const columns = [{ name: 'source', values: ['web', 'scan'] }];
  assert.deepEqual(encodeHeader({ ...input, metadata: columns }).metadata, { columns });
  assert.equal(encodeHeader(input).metadata, undefined);
  assert.throws(() => encodeHeader({ ...input, metadata: [{ name: 'loss', values: [1] }] }), /loss has 1 values/);
});
