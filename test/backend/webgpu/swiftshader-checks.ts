/**
 * Runs in a child process that sees SwiftShader (test/backend/webgpu.test.ts starts it with
 * `swiftshaderEnv()`): every WebGPU check in one process, so Dawn starts once. Prints one JSON
 * line per check on stdout; the parent test judges them.
 *
 *   filterGradient  our Conv2DBackpropFilter (and tfjs's input gradient) vs the cpu backend
 *   adam            the fused Adam vs tfjs's AdamOptimizer over three steps, state layout
 *   training        two training steps of ResNet [1,1,1] on webgpu vs cpu
 *   deviceWork      what steps 3 and 4 ask of the device (compilations, buffers, uploads)
 *   auto, embedAuto `--backend auto` and `--inference auto` pass SwiftShader over
 *   embedGpu        the embedder on webgpu (as auto makes it when a hardware adapter exists)
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../../src/backend/index.ts';
import { checkConvGradients, convGradientCases, pseudoRandom, relativeError } from '../../../src/backend/gradcheck.ts';
import { FusedAdamOptimizer } from '../../../src/backend/optimizers/fused_adam.ts';
import { countDeviceWork } from '../../../src/backend/webgpu_counters.ts';
import { buildResNet } from '../../../src/model/index.ts';
import { createTrainStep, type Batch } from '../../../src/train/step.ts';
import { createEmbedder } from '../../../src/embed/index.ts';
import { layersModelOutputs, makeCheckpoint, maxRelativeRowError } from '../../embed/fixtures.ts';

const emit = (record: object) => process.stdout.write(JSON.stringify(record) + '\n');
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

interface FilterCase {
  name: string;
  x: [number, number, number, number];
  kernel: number;
  stride: number;
  pad: 'same' | 'valid';
  outChannels: number;
}

/** The seed ResNet's shapes, shrunk: stem 7×7/2, 3×3/1, 3×3/2, 1×1/2 shortcut; odd sizes; many splits. */
const FILTER_CASES: FilterCase[] = [
  { name: 'stem 7x7/2 same', x: [2, 32, 32, 3], kernel: 7, stride: 2, pad: 'same', outChannels: 16 },
  { name: '3x3/1 same, 16 K-splits', x: [8, 16, 16, 16], kernel: 3, stride: 1, pad: 'same', outChannels: 16 },
  { name: '3x3/2 same 32->64', x: [2, 8, 8, 32], kernel: 3, stride: 2, pad: 'same', outChannels: 64 },
  { name: '1x1/2 shortcut 16->32', x: [3, 9, 9, 16], kernel: 1, stride: 2, pad: 'same', outChannels: 32 },
  { name: '3x3/1 valid odd 64->64', x: [3, 7, 7, 64], kernel: 3, stride: 1, pad: 'valid', outChannels: 64 },
  { name: '3x3/2 valid odd 5->70', x: [1, 11, 9, 5], kernel: 3, stride: 2, pad: 'valid', outChannels: 70 },
];

async function filterGradient(c: FilterCase): Promise<Float32Array> {
  const [n, h, w, inC] = c.x;
  const outH = c.pad === 'same' ? Math.ceil(h / c.stride) : Math.ceil((h - c.kernel + 1) / c.stride);
  const outW = c.pad === 'same' ? Math.ceil(w / c.stride) : Math.ceil((w - c.kernel + 1) / c.stride);
  const dyShape = [n, outH, outW, c.outChannels];
  const result = tf.tidy(() => {
    const x = tf.tensor4d(pseudoRandom(size(c.x), 11), c.x);
    const dy = tf.tensor4d(pseudoRandom(size(dyShape), 12), dyShape as [number, number, number, number]);
    const filterShape = [c.kernel, c.kernel, inC, c.outChannels];
    const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape };
    return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as tf.Tensor;
  });
  const values = (await result.data()) as Float32Array;
  result.dispose();
  return values;
}

async function checkFilterGradients(): Promise<void> {
  for (const c of FILTER_CASES) {
    await tf.setBackend('cpu');
    const expected = await filterGradient(c);
    await tf.setBackend('webgpu');
    const before = tf.memory().numTensors;
    const counted = await countDeviceWork(async () => {
      const actual = await filterGradient(c);
      const leaked = tf.memory().numTensors - before;
      emit({ check: 'filterGradient', name: c.name, relError: relativeError(actual, expected), leaked });
    });
    emit({ check: 'filterGradientPrograms', name: c.name, compiled: counted.compiled });
  }
  // The gradient pair through tf.grads: our filter gradient and tfjs's input gradient.
  for (const c of convGradientCases()) {
    const r = await checkConvGradients('webgpu', c);
    const name = `${c.kernel}x${c.kernel}/${c.stride} ${c.pad} ${c.size.join('x')}`;
    emit({ check: 'convGradients', name, dxError: r.dxError, dwError: r.dwError, leaked: r.leakedTensors });
  }
}

/** Three steps of both optimizers from the same start, on webgpu; then the state layouts. */
async function checkAdam(): Promise<void> {
  await tf.setBackend('webgpu');
  const shapes = [[3, 3, 4, 40], [37], [64, 10]];
  const make = (prefix: string) =>
    shapes.map((shape, i) => tf.variable(tf.tensor(pseudoRandom(size(shape), 30 + i), shape), true, `${prefix}${i}`));
  const stockVars = make('stock');
  const fusedVars = make('fused');
  const stock = tf.train.adam(0.01, 0.9, 0.999, 1e-7);
  const fused = new FusedAdamOptimizer(0.01, 0.9, 0.999, 1e-7);
  let worst = 0;
  const dispatches: number[] = [];
  for (let step = 0; step < 3; step++) {
    const grads = shapes.map((shape, i) => tf.tensor(pseudoRandom(size(shape), 100 * step + i), shape));
    stock.applyGradients(stockVars.map((v, i) => ({ name: v.name, tensor: grads[i]! })));
    const counted = await countDeviceWork(async () => {
      fused.applyGradients(fusedVars.map((v, i) => ({ name: v.name, tensor: grads[i]! })));
    });
    dispatches.push(counted.dispatches);
    tf.dispose(grads);
    for (let i = 0; i < shapes.length; i++) {
      worst = Math.max(worst, relativeError(await fusedVars[i]!.data(), await stockVars[i]!.data()));
    }
  }
  const stockWeights = await stock.getWeights();
  const fusedWeights = await fused.getWeights();
  let momentsError = 0;
  for (let i = 1; i < stockWeights.length; i++) {
    const error = relativeError(await fusedWeights[i]!.tensor.data(), await stockWeights[i]!.tensor.data());
    momentsError = Math.max(momentsError, error);
  }
  // A stock optimizer continuing from the fused one's state takes the same fourth step.
  const resumed = tf.train.adam(0.01, 0.9, 0.999, 1e-7);
  await resumed.setWeights(fusedWeights.map((w) => ({ name: w.name, tensor: w.tensor.clone() })));
  const grads = shapes.map((shape, i) => tf.tensor(pseudoRandom(size(shape), 900 + i), shape));
  resumed.applyGradients(fusedVars.map((v, i) => ({ name: v.name, tensor: grads[i]! })));
  stock.applyGradients(stockVars.map((v, i) => ({ name: v.name, tensor: grads[i]! })));
  let resumedError = 0;
  for (let i = 0; i < shapes.length; i++) {
    resumedError = Math.max(resumedError, relativeError(await fusedVars[i]!.data(), await stockVars[i]!.data()));
  }
  emit({
    check: 'adam',
    valuesError: worst,
    momentsError,
    resumedError,
    dispatches,
    iterations: fused.iterations,
    names: fusedWeights.map((w) => w.name.replace(/^fused/, '')),
    stockNames: stockWeights.map((w) => w.name.replace(/^stock/, '')),
  });
  tf.dispose([...grads, ...stockVars, ...fusedVars]);
  tf.dispose([...stockWeights, ...fusedWeights].map((w) => w.tensor));
  stock.dispose();
  fused.dispose();
  resumed.dispose();
}

function makeBatch(size: number, seed: number): Batch {
  const images = pseudoRandom(size * 32 * 32 * 3, seed).map((v) => v * 2);
  return { images, labels: Int32Array.from({ length: size }, (_, i) => (i * 7 + seed) % 10), size };
}

/** Weights of a freshly built ResNet [1,1,1], made on the cpu backend (the same start for both). */
async function initialWeights(): Promise<Float32Array[]> {
  await tf.setBackend('cpu');
  const model = buildResNet({ blocks: [1, 1, 1], seed: 5 });
  const values = await Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
  model.dispose();
  return values;
}

async function trainingSteps(backend: string, weights: Float32Array[], steps: number, measureFrom: number) {
  await tf.setBackend(backend);
  const model = buildResNet({ blocks: [1, 1, 1], seed: 5 });
  model.setWeights(model.getWeights().map((w, i) => tf.tensor(weights[i]!, w.shape)));
  const optimizer = new FusedAdamOptimizer(1e-3, 0.9, 0.999, 1e-7);
  const step = createTrainStep(model, optimizer, 10);
  const losses: number[] = [];
  let counts;
  let tensorsBefore = 0;
  for (let i = 0; i < steps; i++) {
    const batch = makeBatch(4, i + 1);
    if (i === measureFrom) {
      tensorsBefore = tf.memory().numTensors;
      counts = await countDeviceWork(async () => {
        for (; i < steps; i++) losses.push((await step(makeBatch(4, i + 1))).loss);
      });
      break;
    }
    losses.push((await step(batch)).loss);
  }
  const leaked = counts ? tf.memory().numTensors - tensorsBefore : 0;
  optimizer.dispose();
  model.dispose();
  return { losses, counts, leaked };
}

async function checkTraining(): Promise<void> {
  const weights = await initialWeights();
  const cpu = await trainingSteps('cpu', weights, 2, -1);
  const started = performance.now();
  const gpu = await trainingSteps('webgpu', weights, 4, 2);
  const seconds = (performance.now() - started) / 1000;
  emit({ check: 'training', cpu: cpu.losses, webgpu: gpu.losses.slice(0, 2), seconds });
  emit({ check: 'deviceWork', steps: [3, 4], ...gpu.counts, leakedTensors: gpu.leaked, losses: gpu.losses.slice(2) });
}

/** Before webgpu is first activated: auto must take wasm, saying why it passed webgpu over. */
async function checkAuto(): Promise<void> {
  const auto = await initBackend('auto', { log: () => undefined });
  emit({ check: 'auto', name: auto.name, reason: auto.reason });
  const lines: string[] = [];
  const embedder = await createEmbedder({ engine: 'auto', threads: 1, log: (line) => lines.push(line) });
  emit({ check: 'embedAuto', name: embedder.name, lines });
  await embedder.dispose();
}

/** What `--inference auto` builds on a hardware GPU, run here on SwiftShader with the probe faked. */
async function checkEmbedOnGpu(): Promise<void> {
  await tf.setBackend('cpu');
  const fixture = await makeCheckpoint({ blocks: [1, 1, 1] }, 21);
  const n = 6;
  const input = pseudoRandom(n * 3072, 77);
  const reference = await layersModelOutputs(fixture.model, input, n);
  const lines: string[] = [];
  const fakeGpu = async () => ({ available: true as const, detail: 'GPU adapter: (faked for the test)' });
  const log = (line: string) => lines.push(line);
  const embedder = await createEmbedder({ engine: 'auto', backend: 'webgpu', probeGpu: fakeGpu, log });
  await embedder.load(fixture.dir);
  const out = await embedder.embed(input, n);
  emit({
    check: 'embedGpu',
    name: embedder.name,
    backend: tf.getBackend(),
    lines,
    embeddingError: maxRelativeRowError(reference.embeddings, out.embeddings, 128),
    logitsError: maxRelativeRowError(reference.logits, out.logits, 10),
  });
  await embedder.dispose();
  await fixture.cleanup();
}

const only = process.argv[2];
if (!only || only === 'auto') await checkAuto();
await initBackend('webgpu', { log: (line) => process.stderr.write(line + '\n') });
if (!only || only === 'embed') await checkEmbedOnGpu();
if (!only || only === 'filter') await checkFilterGradients();
if (!only || only === 'adam') await checkAdam();
if (!only || only === 'training') await checkTraining();
emit({ check: 'done' });
process.exit(0);
