/**
 * `npm run bench:train`: forward and training throughput (images per second) of the seed ResNet
 * on every tfjs backend this machine has, at batch 64 and 256.
 *
 *   npm run bench:train -- [--backend all|wasm,webgpu,…] [--batch 64,256] [--blocks 6,6,12]
 *                          [--iterations 3] [--json] [--profile]
 *
 * Inputs are random images (throughput does not depend on pixel values). Each measurement runs one
 * untimed warm-up (XNNPACK operator creation, shader compilation), then `--iterations` timed ones.
 * A training step is Adam 1e-3 on softmax cross-entropy of the logits, `optimizer.minimize`
 * inside `tf.tidy`, one host read (the loss) per step. `--profile` prints the time per kernel
 * of one training step (on webgpu the device's timestamps, when it has them, and the step's
 * wall time, dispatches and uploads beside them).
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initBackend, parseBackendChoice, type ConcreteBackend } from '../src/backend/index.ts';
import { profileKernels, formatProfile } from '../src/backend/profile.ts';
import { countDeviceWork } from '../src/backend/webgpu_counters.ts';
import { createAdamOptimizer } from '../src/backend/optimizers/fused_adam.ts';
import { buildResNet, parseBlocks } from '../src/model/index.ts';
import { isUserError } from '../src/errors.ts';

const ALL_BACKENDS: ConcreteBackend[] = ['tfjs-node-gpu', 'tfjs-node', 'webgpu', 'wasm', 'cpu'];
const CPU_REASON = 'pure JavaScript, about 5 img/s forward: minutes per measurement; ask for it with --backend cpu';

interface Measurement {
  backend: string;
  batch: number;
  forward_img_s: number;
  train_img_s: number;
}

function randomBatch(batch: number): { x: tf.Tensor4D; labels: tf.Tensor2D } {
  return tf.tidy(() => {
    const x = tf.randomUniform([batch, 32, 32, 3], -1, 1, 'float32', 1) as tf.Tensor4D;
    const classes = tf.randomUniform([batch], 0, 10, 'int32', 2) as tf.Tensor1D;
    return { x, labels: tf.cast(tf.oneHot(classes, 10), 'float32') as tf.Tensor2D };
  });
}

async function forwardOnce(model: tfl.LayersModel, x: tf.Tensor4D): Promise<void> {
  const outputs = tf.tidy(() => {
    const [logits, embedding] = model.apply(x, { training: false }) as tf.Tensor[];
    return tf.concat([logits!, embedding!], 1);
  });
  // Reading both outputs forces the whole graph: one host read per batch. Asynchronous, because
  // the webgpu backend cannot read synchronously in Node.
  await outputs.data();
  outputs.dispose();
}

async function trainStepOnce(
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
  x: tf.Tensor4D,
  labels: tf.Tensor2D,
): Promise<number> {
  const loss = tf.tidy(() =>
    optimizer.minimize(() => {
      const [logits] = model.apply(x, { training: true }) as tf.Tensor[];
      return tf.losses.softmaxCrossEntropy(labels, logits!) as tf.Scalar;
    }, true)!,
  );
  const value = (await loss.data())[0]!;
  loss.dispose();
  return value;
}

async function imagesPerSecond(batch: number, iterations: number, run: () => Promise<void>): Promise<number> {
  await run(); // warm-up, untimed
  const start = performance.now();
  for (let i = 0; i < iterations; i++) await run();
  return (batch * iterations) / ((performance.now() - start) / 1000);
}

async function measure(
  backend: string,
  blocks: number[],
  batch: number,
  iterations: number,
  profile: boolean,
): Promise<Measurement> {
  const model = buildResNet({ blocks, seed: 1 });
  // The optimizer training uses: Adam fused into our kernels on webgpu, tfjs's own elsewhere.
  const optimizer = createAdamOptimizer(1e-3);
  const { x, labels } = randomBatch(batch);
  try {
    const forward = await imagesPerSecond(batch, iterations, () => forwardOnce(model, x));
    const train = await imagesPerSecond(batch, iterations, async () => {
      const loss = await trainStepOnce(model, optimizer, x, labels);
      if (!Number.isFinite(loss)) throw new Error(`training diverged on ${backend}: loss ${loss}`);
    });
    if (profile && backend === 'webgpu') {
      await reportDeviceWork(backend, batch, () => trainStepOnce(model, optimizer, x, labels));
    }
    if (profile) {
      const kernels = await profileKernels(() => trainStepOnce(model, optimizer, x, labels));
      process.stderr.write(
        `\nper-kernel profile of one training step, ${backend}, batch ${batch}:\n${formatProfile(kernels)}\n`,
      );
    }
    return { backend, batch, forward_img_s: round(forward), train_img_s: round(train) };
  } finally {
    tf.dispose([x, labels]);
    optimizer.dispose();
    model.dispose();
  }
}

/**
 * One unprofiled step with the device instrumented: its wall time beside what it asked of the
 * GPU (dispatches, uploads, buffers, compilations). The per-kernel profile that follows times
 * kernels one submit each, so its wall time is no measure of the real step.
 */
async function reportDeviceWork(backend: string, batch: number, step: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  const counts = await countDeviceWork(step);
  const ms = performance.now() - started;
  process.stderr.write(
    `\ndevice work of one training step, ${backend}, batch ${batch}: wall ${ms.toFixed(1)} ms, ` +
      `${counts.dispatches} dispatches, ${counts.writeBuffer} uniform writes, ${counts.uploads} uploads ` +
      `(${counts.uploadBytes} bytes; ${JSON.stringify(counts.uploadShapes)}), ` +
      `${counts.createBuffer} buffers created, ` +
      `${counts.createComputePipeline} pipelines compiled\n`,
  );
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function positiveList(text: string, what: string): number[] {
  const values = text.split(',').map(Number);
  if (values.some((v) => !Number.isInteger(v) || v < 1))
    throw new Error(`--${what} must be positive integers separated by commas, got '${text}'`);
  return values;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'all' },
      batch: { type: 'string', default: '64,256' },
      blocks: { type: 'string', default: 'seed' },
      iterations: { type: 'string', default: '3' },
      json: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
    },
  });
  const blocks = parseBlocks(values.blocks!);
  const batches = positiveList(values.batch!, 'batch');
  const [iterations] = positiveList(values.iterations!, 'iterations');
  const asked =
    values.backend === 'all'
      ? undefined
      : values.backend!.split(',').map((name) => parseBackendChoice(name) as ConcreteBackend);
  const candidates = asked ?? ALL_BACKENDS;
  const note = (line: string) => process.stderr.write(line + '\n');

  const rows: Measurement[] = [];
  for (const candidate of candidates) {
    if (candidate === 'cpu' && asked === undefined) {
      note(`skipped cpu: ${CPU_REASON}`);
      continue;
    }
    let name: string;
    try {
      ({ name } = await initBackend(candidate, { log: note }));
    } catch (error) {
      if (!isUserError(error)) throw error;
      note(`skipped ${candidate}: ${error.message}`);
      continue;
    }
    for (const batch of batches) {
      const row = await measure(name === 'tensorflow' ? candidate : name, blocks, batch, iterations!, values.profile!);
      rows.push(row);
      if (values.json) process.stdout.write(JSON.stringify(row) + '\n');
      else
        note(`  ${row.backend} batch ${row.batch}: forward ${row.forward_img_s} img/s, train ${row.train_img_s} img/s`);
    }
  }
  if (!values.json) {
    console.log(`\nResNet blocks [${blocks.join(',')}], ${iterations} timed iterations after one warm-up\n`);
    console.log('| backend | batch | forward img/s | train img/s |');
    console.log('|---|---|---|---|');
    for (const row of rows)
      console.log(`| ${row.backend} | ${row.batch} | ${row.forward_img_s} | ${row.train_img_s} |`);
  }
}

main().then(
  // Exit explicitly: a GPU device (Dawn) can keep Node's event loop alive after the work is done.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench-train: ${isUserError(error) ? error.message : (error as Error).stack}\n`);
    process.exit(1);
  },
);
