/**
 * Our own codecs against the libraries that could replace them:
 * - PNG encode of what the watcher encodes: an 800×600 RGBA frame picture (a TensorBoard image
 *   summary) and the projector sprite of 10,000 32×32 CIFAR-10 tiles (3200×3200 RGB), by
 *   `encodePng` (src/tensorboard/png.ts) and by Skia (`@napi-rs/canvas`), with the output sizes;
 * - PNG decode of a user's sprite (the PyTorch fixture's and the 10,000-tile one) by `decodePng`
 *   and by Skia (`loadImage` + `getImageData`, as sprite.ts does for what ours does not read);
 *   then what each does with a truncated, a corrupt and a 100000×100000-claiming PNG;
 * - tar: gunzip + tar-stream over the whole CIFAR-10 archive keeping its batch files, and
 *   `loadCifar10` end to end, each run in a fresh process for time and peak RSS. (Our own tar
 *   reader measured the same within noise, see docs/interfaces.md, so tar-stream replaced it.)
 *
 *   tsx scripts/bench-codecs.ts [--data <cifar-10-binary.tar.gz>] [--repeats 5] [--json]
 *
 * Without --data or CIFAR10_PATH, sprite tiles are random pixels and the tar rows are skipped.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { createCanvas, ImageData, loadImage } from '@napi-rs/canvas';
import { loadCifar10 } from '../src/data/index.ts';
import { drawScatter } from '../src/render/index.ts';
import { decodePng, encodePng, readPngHeader } from '../src/tensorboard/png.ts';
import { layoutSprite } from '../src/tensorboard/projector.ts';
import { Random } from '../src/util/random.ts';
import { parseScriptArgs } from './script-args.ts';

const { values } = parseScriptArgs('bench:codecs', import.meta.url, {
  data: { type: 'string' },
  repeats: { type: 'string', default: '5' },
  json: { type: 'boolean', default: false },
  // Internal: run one isolated case in this process and print its JSON row.
  only: { type: 'string' },
});
const repeats = Number(values.repeats);
const archive = values.data ?? process.env.CIFAR10_PATH;
const SPRITE_FIXTURE = fileURLToPath(
  new URL('../../shared/fixtures/pytorch/basic/05120/default/sprite.png', import.meta.url),
);
const WANTED = new Set(['batches.meta.txt', 'test_batch.bin', ...[1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`)]);

interface Row {
  name: string;
  ms?: number;
  bytes?: number;
  maxRssMb?: number;
  note?: string;
}

if (values.only !== undefined) {
  const row = await isolated(values.only);
  process.stdout.write(`${JSON.stringify(row)}\n`);
  process.exit(0);
}

const rows: Row[] = [];

// ---- PNG encode ----
const frame = drawScatter({
  points: Float64Array.from({ length: 2000 }, (_, i) => Math.sin(i * 12.9898) * 2.5),
  labels: Uint8Array.from({ length: 1000 }, (_, i) => i % 10),
  classNames: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
  title: 't-SNE of the embeddings',
  caption: 'step 12,800',
});
const tiles = await spriteTiles();
const sprite = layoutSprite(tiles, 10_000, 32, 32);
const spriteRgba = toRgba(sprite.image, sprite.grid.width * sprite.grid.height);

for (const [label, rgba, width, height, channels, source] of [
  ['frame 800×600 RGBA', frame.rgba, frame.width, frame.height, 4, frame.rgba],
  ['sprite 10,000 tiles 3200×3200', spriteRgba, sprite.grid.width, sprite.grid.height, 3, sprite.image],
] as const) {
  const ours = time(() => encodePng(source, width, height, channels));
  rows.push({ name: `encode ${label}: png.ts`, ms: ours.ms, bytes: ours.result.length });
  // Skia takes RGBA only: widening the RGB sprite is part of its cost.
  const skia = time(() => skiaEncode(toRgba(source, width * height), width, height));
  const colourType = readPngHeader(skia.result)?.colorType;
  rows.push({
    name: `encode ${label}: Skia encodeSync`,
    ms: skia.ms,
    bytes: skia.result.length,
    note: `colour type ${colourType}`,
  });
  assertSamePixels(decodePng(skia.result).pixels, rgba, label);
}
// What an image summary of a user's RGBA with partial alpha keeps (a canvas holds premultiplied pixels).
{
  const rgba = Uint8Array.from({ length: 64 * 64 * 4 }, (_, i) => (i * 37) % 256);
  const exact = (png: Buffer) => Buffer.from(decodePng(png).pixels).equals(Buffer.from(rgba));
  const changed = (png: Buffer) => decodePng(png).pixels.reduce((n, v, i) => (v === rgba[i] ? n : n + 1), 0);
  rows.push({
    name: 'round trip 64×64 RGBA, partial alpha: png.ts',
    note: exact(encodePng(rgba, 64, 64)) ? 'exact' : 'lossy',
  });
  const skia = skiaEncode(rgba, 64, 64);
  rows.push({
    name: 'round trip 64×64 RGBA, partial alpha: Skia',
    note: exact(skia) ? 'exact' : `${changed(skia)} of ${rgba.length} bytes changed`,
  });
}

// ---- PNG decode ----
const spritePng = encodePng(sprite.image, sprite.grid.width, sprite.grid.height, 3);
const decodeCases: [string, Uint8Array][] = [['sprite 10,000 tiles 3200×3200', spritePng]];
if (existsSync(SPRITE_FIXTURE)) decodeCases.unshift(['PyTorch fixture sprite 576×576', readFileSync(SPRITE_FIXTURE)]);
for (const [label, bytes] of decodeCases) {
  const ours = time(() => decodePng(bytes));
  rows.push({ name: `decode ${label}: png.ts`, ms: ours.ms });
  const skia = await timeAsync(() => skiaDecode(bytes));
  rows.push({ name: `decode ${label}: Skia loadImage + getImageData`, ms: skia.ms });
  assertSamePixels(skia.result, toRgba(ours.result.pixels, ours.result.width * ours.result.height), label);
}

// ---- hostile PNGs, each decoder in its own process (a huge allocation must not take this one down) ----
for (const kind of ['truncated', 'corrupt', 'huge']) {
  for (const decoder of ['ours', 'skia']) rows.push(runIsolated(`${kind}-${decoder}`));
}

// ---- tar ----
if (archive === undefined) {
  rows.push({ name: 'tar', note: 'skipped: no --data or CIFAR10_PATH' });
} else {
  // Alternated, `repeats` fresh processes each: the median time and the largest peak RSS.
  const cases = ['tar', 'load'];
  const runs = new Map<string, Row[]>(cases.map((name) => [name, []]));
  for (let i = 0; i < repeats; i++) for (const name of cases) runs.get(name)!.push(runIsolated(name));
  for (const list of runs.values()) {
    const timed = list.filter((row) => row.ms !== undefined);
    if (timed.length === 0) rows.push(list[0]!);
    else {
      const note = `${timed[0]!.note}; ${timed.length} runs, ms ${timed.map((r) => r.ms!.toFixed(0)).join(' ')}`;
      const maxRssMb = Math.max(...timed.map((r) => r.maxRssMb!));
      rows.push({ ...timed[0]!, ms: median(timed.map((r) => r.ms!)), maxRssMb, note });
    }
  }
}

if (values.json) {
  for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
} else {
  for (const row of rows) {
    const cells = [
      row.ms === undefined ? '' : `${row.ms.toFixed(1)} ms`,
      row.bytes === undefined ? '' : `${(row.bytes / 1024).toFixed(0)} KiB`,
      row.maxRssMb === undefined ? '' : `peak RSS ${row.maxRssMb.toFixed(0)} MB`,
      row.note ?? '',
    ].filter(Boolean);
    process.stdout.write(`${row.name.padEnd(62)} ${cells.join('  ')}\n`);
  }
}

/** Median wall time of `repeats` runs after one warm-up. */
function time<T>(run: () => T): { ms: number; result: T } {
  let result = run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    result = run();
    times.push(performance.now() - started);
  }
  return { ms: median(times), result };
}

async function timeAsync<T>(run: () => Promise<T>): Promise<{ ms: number; result: T }> {
  let result = await run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    result = await run();
    times.push(performance.now() - started);
  }
  return { ms: median(times), result };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function skiaEncode(rgba: Uint8Array, width: number, height: number): Buffer {
  const canvas = createCanvas(width, height);
  const clamped = new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  canvas.getContext('2d').putImageData(new ImageData(clamped, width, height), 0, 0);
  return canvas.encodeSync('png');
}

async function skiaDecode(bytes: Uint8Array): Promise<Uint8Array> {
  const image = await loadImage(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const canvas = createCanvas(image.width, image.height);
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  const data = context.getImageData(0, 0, image.width, image.height).data;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function toRgba(rgb: Uint8Array, pixels: number): Uint8Array {
  if (rgb.length === pixels * 4) return rgb;
  const out = new Uint8Array(pixels * 4);
  for (let p = 0; p < pixels; p++) {
    out[p * 4] = rgb[p * 3]!;
    out[p * 4 + 1] = rgb[p * 3 + 1]!;
    out[p * 4 + 2] = rgb[p * 3 + 2]!;
    out[p * 4 + 3] = 255;
  }
  return out;
}

function assertSamePixels(a: Uint8Array, b: Uint8Array, label: string): void {
  if (a.length !== b.length || !Buffer.from(a).equals(Buffer.from(b))) {
    throw new Error(`${label}: the two codecs disagree on the pixels`);
  }
}

/** 10,000 CIFAR-10 test images as 32×32 RGB tiles (random pixels without the archive). */
async function spriteTiles(): Promise<Uint8Array> {
  if (archive !== undefined) {
    const { test } = await loadCifar10(archive, { log: () => undefined, splits: 'test' });
    return test.images;
  }
  const random = new Random(1);
  return Uint8Array.from({ length: 10_000 * 32 * 32 * 3 }, () => Math.floor(random.next() * 256));
}

function runIsolated(name: string): Row {
  const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--only', name, '--repeats', String(repeats)];
  if (archive !== undefined) args.push('--data', archive);
  try {
    const out = execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return JSON.parse(out.trim().split('\n').at(-1)!) as Row;
  } catch (error) {
    const { status, signal, stderr } = error as { status: number | null; signal: string | null; stderr: string };
    const last = String(stderr).trim().split('\n').at(-1) ?? '';
    return { name, note: `process died (status ${status}, signal ${signal}): ${last.slice(0, 120)}` };
  }
}

/** This process's peak RSS (VmHWM: unlike getrusage's maxRSS, not inherited from the parent on Linux). */
function peakRssMb(): number {
  const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

/** One case in this (fresh) process: a hostile PNG for one decoder, or one tar reading. */
async function isolated(name: string): Promise<Row> {
  const [kind, decoder] = name.split('-') as [string, string];
  if (kind === 'tar' || kind === 'load') return tarCase(name);
  const bytes = hostilePng(kind);
  const started = performance.now();
  let note: string;
  try {
    if (decoder === 'ours') {
      const header = readPngHeader(bytes);
      const image = decodePng(bytes, 'sprite.png');
      note = `decoded ${image.width}×${image.height} (header ${header?.width}×${header?.height})`;
    } else {
      const pixels = await skiaDecode(bytes);
      const black = pixels.reduce((n, v, i) => (i % 4 !== 3 && v === 0 ? n + 1 : n), 0);
      note = `decoded ${pixels.length / 4} pixels, ${((100 * black) / ((pixels.length * 3) / 4)).toFixed(0)}% zero`;
    }
  } catch (error) {
    note = `throws ${(error as Error).constructor.name}: ${(error as Error).message.slice(0, 90)}`;
  }
  return { name: `${kind} PNG: ${decoder}`, ms: performance.now() - started, maxRssMb: peakRssMb(), note };
}

/** A sprite-like PNG made hostile: cut in half, IDAT bytes flipped, or claiming 100000×100000. */
function hostilePng(kind: string): Buffer {
  const random = new Random(2);
  const pixels = Uint8Array.from({ length: 256 * 256 * 3 }, (_, i) => (i % 7 === 0 ? random.next() * 256 : i & 0xff));
  const png = encodePng(pixels, 256, 256, 3);
  if (kind === 'truncated') return png.subarray(0, png.length >> 1);
  if (kind === 'corrupt') {
    const copy = Buffer.from(png);
    for (let i = 100; i < copy.length - 100; i += 97) copy[i] ^= 0x5a;
    return copy;
  }
  // A valid IHDR (with its CRC) for 100000×100000 RGB and a small IDAT.
  const big = encodePng(new Uint8Array(3), 1, 1, 3);
  const ihdr = Buffer.from(big.subarray(8, 33));
  ihdr.writeUInt32BE(100_000, 8);
  ihdr.writeUInt32BE(100_000, 12);
  ihdr.writeUInt32BE(crc32(ihdr.subarray(4, 21)), 21);
  return Buffer.concat([big.subarray(0, 8), ihdr, big.subarray(33)]);
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Gunzip + tar-stream over the whole archive keeping CIFAR-10's files, or loadCifar10 end to end. */
async function tarCase(name: string): Promise<Row> {
  const path = archive!;
  const started = performance.now();
  if (name === 'load') {
    const data = await loadCifar10(path, { log: () => undefined });
    const ms = performance.now() - started;
    return {
      name: 'loadCifar10 (whole archive, decoded)',
      ms,
      maxRssMb: peakRssMb(),
      note: `${data.train.count} train + ${data.test.count} test`,
    };
  }
  const kept = new Map<string, Uint8Array>();
  const extract = tarExtract();
  extract.on('entry', (header, stream, next) => {
    const wanted = header.type === 'file' && WANTED.has(basename(header.name));
    // Filled in place, as load.ts does: no second copy of a 30 MB batch.
    const data = wanted ? Buffer.allocUnsafe(header.size) : undefined;
    let fill = 0;
    stream.on('data', (chunk: unknown) => {
      if (data) fill += (chunk as Buffer).copy(data, fill);
    });
    stream.on('end', () => {
      if (data) kept.set(basename(header.name), data);
      next();
    });
  });
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), createGunzip({ chunkSize: 1 << 20 }), extract);
  const ms = performance.now() - started;
  const bytes = [...kept.values()].reduce((sum, data) => sum + data.length, 0);
  return { name: 'gunzip + tar-stream, whole archive', ms, bytes, maxRssMb: peakRssMb(), note: `${kept.size} files` };
}
