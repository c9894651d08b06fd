/**
 * The training loss, step by step, of the seed ResNet on wasm, with the project's speed work
 * (`--kernels ours`: initBackend's kernels and gradients) or with only the two convolution
 * gradient kernels wasm needs to train at all (`--kernels minimal`: stock tfjs otherwise).
 * Same seed, same data order and augmentation, so the two curves differ only by the kernels.
 * Prints one JSON line per step; compare two runs with `--compare a.ndjson b.ndjson`.
 *
 *   npx tsx scripts/loss-curve.ts --kernels ours --samples 10000 > ours.ndjson
 *   npx tsx scripts/loss-curve.ts --kernels minimal --samples 10000 > minimal.ndjson
 *   npx tsx scripts/loss-curve.ts --compare minimal.ndjson ours.ndjson
 *
 * `--workers N` trains with N data-parallel worker threads (src/train/parallel/) instead of one
 * thread, from the same seed, data order and augmentation: compare `--workers 1` with
 * `--workers 2` the same way.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { parseCommandArgs, intOption } from '../src/cli/args.ts';
import { initBackend } from '../src/backend/index.ts';
import { wasmBinaryFolder } from '../src/backend/probes.ts';
import { conv2DBackpropFilterConfig } from '../src/backend/kernels/conv2d_backprop_filter.ts';
import { conv2DBackpropInputConfig } from '../src/backend/kernels/conv2d_backprop_input.ts';
import { ensureCifarSource, loadCifar10, TrainBatches } from '../src/data/index.ts';
import { buildResNet, parseBlocks, resolveModelOptions } from '../src/model/resnet.ts';
import { trainStepForWorkers } from '../src/train/parallel/step-factory.ts';

const { values, positionals } = parseCommandArgs('loss-curve', process.argv.slice(2), {
  kernels: { type: 'string', default: 'ours' },
  samples: { type: 'string' },
  blocks: { type: 'string', default: '6,6,12' },
  'batch-size': { type: 'string' },
  data: { type: 'string' },
  workers: { type: 'string' },
  compare: { type: 'boolean', default: false },
});

function readCurve(path: string): number[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { loss: number }).loss);
}

if (values.compare) {
  if (positionals.length !== 2) throw new Error('--compare takes two NDJSON files written by this script');
  const [a, b] = positionals.map(readCurve) as [number[], number[]];
  const steps = Math.min(a.length, b.length);
  const window = 5;
  console.log(`steps ${steps}; mean loss per ${window} steps (first | second | difference)`);
  for (let start = 0; start < steps; start += window) {
    const end = Math.min(steps, start + window);
    const mean = (xs: number[]) => xs.slice(start, end).reduce((s, x) => s + x, 0) / (end - start);
    console.log(
      `${String(start).padStart(4)}–${String(end - 1).padEnd(4)} ${mean(a).toFixed(4)} | ${mean(b).toFixed(4)} | ` +
        `${(mean(b) - mean(a)).toFixed(4)}`,
    );
  }
  process.exit(0);
}

if (values.kernels === 'minimal') {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  await import('@tensorflow/tfjs-layers'); // registers tfjs's stock gradients
  wasm.setWasmPaths(wasmBinaryFolder());
  tf.registerKernel(conv2DBackpropFilterConfig);
  tf.registerKernel(conv2DBackpropInputConfig);
  await tf.setBackend('wasm');
  console.error('backend: wasm with the two convolution gradient kernels only (stock tfjs otherwise)');
} else {
  await initBackend('wasm');
}

const batchSize = intOption('loss-curve', 'batch-size', values['batch-size'], 256, 1);
const samples = intOption('loss-curve', 'samples', values.samples, 10_000, 1);
const data = await loadCifar10(await ensureCifarSource(values.data), { log: (line) => console.error(line) });
const workers = intOption('loss-curve', 'workers', values.workers, 1, 1);
if (workers > 1 && values.kernels === 'minimal') {
  throw new Error("--workers runs the project's kernels in every worker; use it with --kernels ours");
}
const modelOptions = resolveModelOptions({ blocks: parseBlocks(values.blocks!) });
const model = buildResNet({ ...modelOptions, seed: 0 });
const optimizer = tf.train.adam(1e-3);
const { step, parallel } = await trainStepForWorkers({
  model,
  modelOptions,
  optimizer,
  numClasses: 10,
  workers,
  maxBatch: batchSize,
  backend: 'wasm',
});
const batches = new TrainBatches(data.train, { batchSize, seed: 0 });
let seen = 0;
let index = 0;
const started = performance.now();
for (const batch of batches.batches(0)) {
  if (seen >= samples) break;
  const { loss } = await step({ images: batch.x, labels: batch.labels, size: batch.count });
  seen += batch.count;
  console.log(
    JSON.stringify({ step: index++, samples: seen, loss, seconds: +((performance.now() - started) / 1000).toFixed(1) }),
  );
}
await parallel?.close();
