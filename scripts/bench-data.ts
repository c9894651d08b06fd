/**
 * How long the data side takes: loading CIFAR-10, one augmented training batch, and the
 * watcher's fixed validation input. A training step of the seed ResNet costs about 1–10 s per
 * batch of 256 on this kind of machine, so the batch time here should be a small fraction of it.
 *
 *   tsx scripts/bench-data.ts [--data <dir|archive>] [--batch 256] [--batches 40] [--json]
 *
 * Without --data or CIFAR10_PATH it uses 20,000 random images (the pixel values do not change
 * the cost of augmentation) and skips the loading row.
 */
import { Random } from '../src/util/random.ts';
import {
  TrainBatches,
  loadCifar10,
  stratifiedSubset,
  toModelInput,
  type AugmentOptions,
  type Split,
} from '../src/data/index.ts';
import { parseScriptArgs } from './script-args.ts';

const { values } = parseScriptArgs('bench:data', import.meta.url, {
  data: { type: 'string' },
  batch: { type: 'string', default: '256' },
  batches: { type: 'string', default: '40' },
  json: { type: 'boolean', default: false },
});
const batchSize = Number(values.batch);
const batchCount = Number(values.batches);
const source = values.data ?? process.env.CIFAR10_PATH;

interface Row {
  name: string;
  msPerBatch?: number;
  imagesPerSecond?: number;
  seconds?: number;
  note?: string;
}
const rows: Row[] = [];

let train: Split;
let test: Split;
if (source) {
  const started = performance.now();
  const data = await loadCifar10(source, { log: () => undefined });
  rows.push({
    name: 'load CIFAR-10',
    seconds: (performance.now() - started) / 1000,
    note: `${data.train.count} train + ${data.test.count} test from ${source}`,
  });
  ({ train, test } = data);
} else {
  train = randomSplit(20_000);
  test = randomSplit(10_000);
  rows.push({ name: 'load CIFAR-10', note: 'skipped: no --data or CIFAR10_PATH; random images used' });
}

/** Times `batchCount` batches after a few warm-up ones; returns the median batch time in ms. */
function timeBatches(augment: boolean | AugmentOptions): number {
  const batches = new TrainBatches(train, { batchSize, seed: 1, augment });
  const times: number[] = [];
  let position = 0;
  for (let i = 0; i < batchCount + 3; i++) {
    if (position + batchSize > batches.samplesPerEpoch) position = 0;
    const started = performance.now();
    batches.batchAt(0, position, batchSize);
    const elapsed = performance.now() - started;
    if (i >= 3) times.push(elapsed);
    position += batchSize;
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

for (const [name, augment] of [
  ['batch: flip + crop + rotation (seed)', true],
  ['batch: flip + crop', { maxRotationDegrees: 0 }],
  ['batch: no augmentation', false],
] as const) {
  const ms = timeBatches(augment);
  rows.push({
    name: `${name}, ${batchSize}`,
    msPerBatch: ms,
    imagesPerSecond: (batchSize * 1000) / ms,
    note: `${((100 * ms) / 1000).toFixed(2)}% of a 1 s training step`,
  });
}

{
  const started = performance.now();
  const subset = stratifiedSubset(test.labels, 1000, 0);
  const input = toModelInput(test.images, subset);
  const seconds = (performance.now() - started) / 1000;
  rows.push({
    name: 'validation input: stratifiedSubset + toModelInput, 1,000',
    seconds,
    note: `${input.length} floats`,
  });
}

if (values.json) {
  for (const row of rows) process.stdout.write(`${JSON.stringify({ bench: 'data', ...row })}\n`);
} else {
  const table = rows.map((row) => [
    row.name,
    row.msPerBatch === undefined ? '' : row.msPerBatch.toFixed(2),
    row.imagesPerSecond === undefined ? '' : Math.round(row.imagesPerSecond).toLocaleString('en-US'),
    row.seconds === undefined ? '' : row.seconds.toFixed(3),
    row.note ?? '',
  ]);
  const header = ['what', 'ms/batch', 'img/s', 'seconds', 'note'];
  const widths = header.map((title, column) => Math.max(title.length, ...table.map((cells) => cells[column].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column === 0 || column === 4 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]),
      )
      .join('  ');
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const cells of table) console.log(line(cells));
  console.log(`(median of ${batchCount} batches, one thread; numbers from a shared machine are noisy)`);
}

function randomSplit(count: number): Split {
  const random = new Random(7);
  const images = new Uint8Array(count * 3072);
  for (let i = 0; i < images.length; i++) images[i] = random.int(256);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return { images, labels, count };
}
