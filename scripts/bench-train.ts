/**
 * `npm run bench:train`: forward and training throughput (images per second) of the seed ResNet
 * on every tfjs backend this machine has, at batch 64 and 256.
 *
 *   npm run bench:train -- [--backend all|wasm,webgpu,…] [--batch 64,256] [--blocks 6,6,12]
 *                          [--iterations 3] [--workers 1,2] [--json] [--profile]
 *
 * Inputs are random images (throughput does not depend on pixel values). Each measurement runs one
 * untimed warm-up (XNNPACK operator creation, shader compilation), then `--iterations` timed ones.
 * A training step is Adam 1e-3 on softmax cross-entropy of the logits, `optimizer.minimize`
 * inside `tf.tidy`, one host read (the loss) per step. `--profile` prints the time per kernel
 * of one training step (on webgpu the device's timestamps, when it has them, and the step's
 * wall time, dispatches and uploads beside them).
 *
 * `--workers 1,2,…` (wasm and cpu) also measures data-parallel training on that many worker
 * threads (src/train/parallel/): the same step as `train --workers N`, fed the same random batch.
 * 1 is the single-thread path. Those rows add the trainer's own share of a step (average of the
 * gradients, Adam update, publishing the weights), in milliseconds, and how many cores the
 * process kept busy (CPU time / wall time): on a shared machine, what the run actually got.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initBackend, parseBackendChoice, type ConcreteBackend } from '../src/backend/index.ts';
import { profileKernels, formatProfile } from '../src/backend/profile.ts';
import { countDeviceWork } from '../src/backend/webgpu_counters.ts';
import { createAdamOptimizer } from '../src/backend/optimizers/fused_adam.ts';
import { buildResNet, parseBlocks, resolveModelOptions } from '../src/model/index.ts';
import { trainStepForWorkers } from '../src/train/parallel/step-factory.ts';
import { isUserError } from '../src/errors.ts';
import { parseScriptArgs } from './script-args.ts';

const ALL_BACKENDS: ConcreteBackend[] = ['tfjs-node-gpu', 'tfjs-node', 'webgpu', 'wasm', 'cpu'];
const CPU_REASON = 'pure JavaScript, about 5 img/s forward: minutes per measurement; ask for it with --backend cpu';

interface Measurement {
  backend: string;
  batch: number;
  workers: number;
  forward_img_s: number | null;
  train_img_s: number;
  /** Milliseconds per step the trainer spends outside the workers (parallel rows only). */
  master_ms?: number;
  /**
   * CPU seconds the whole process (every thread) used per wall-clock second of the timed steps
   * (`--workers` rows): on a machine shared with other work, how many cores the run got.
   */
  cores_used?: number;
  /** CPU milliseconds (every thread) per trained image: the work, whatever the machine's load. */
  cpu_ms_per_img?: number;
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
    return { backend, batch, workers: 1, forward_img_s: round(forward), train_img_s: round(train) };
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

/** The training step `train --workers N` runs (N = 1: the single-thread step of the trainer). */
async function measureWorkers(
  backend: string,
  blocks: number[],
  batch: number,
  iterations: number,
  workers: number,
): Promise<Measurement> {
  const modelOptions = resolveModelOptions({ blocks });
  const model = buildResNet({ ...modelOptions, seed: 1 });
  const optimizer = tf.train.adam(1e-3);
  const images = Float32Array.from({ length: batch * 32 * 32 * 3 }, (_, i) => Math.sin(i * 12.9898) % 1);
  const input = { images, labels: Int32Array.from({ length: batch }, (_, i) => (i * 7) % 10), size: batch };
  const { step, parallel } = await trainStepForWorkers({
    model,
    modelOptions,
    optimizer,
    numClasses: 10,
    workers,
    maxBatch: batch,
    backend,
  });
  let masterMs = 0;
  let cpuStart = process.cpuUsage();
  let wallStart = 0;
  let calls = 0;
  try {
    const train = await imagesPerSecond(batch, iterations, async () => {
      // The first call is imagesPerSecond's untimed warm-up: count from the second.
      if (calls++ === 1) [cpuStart, wallStart] = [process.cpuUsage(), performance.now()];
      const { loss } = await step(input);
      if (!Number.isFinite(loss)) {
        throw new Error(`training diverged on ${backend} with ${workers} workers: loss ${loss}`);
      }
      if (parallel) {
        const t = parallel.lastTimings();
        masterMs += (t.average + t.apply + t.publish) / (iterations + 1);
      }
    });
    const cpu = process.cpuUsage(cpuStart);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const wallMs = performance.now() - wallStart;
    const usage = { cores_used: round(cpuMs / wallMs), cpu_ms_per_img: round(cpuMs / (batch * iterations)) };
    const master = parallel ? { master_ms: round(masterMs) } : {};
    return { backend, batch, workers, forward_img_s: null, train_img_s: round(train), ...usage, ...master };
  } finally {
    await parallel?.close();
    optimizer.dispose();
    model.dispose();
  }
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
  const { values } = parseScriptArgs('bench:train', import.meta.url, {
    backend: { type: 'string', default: 'all' },
    batch: { type: 'string', default: '64,256' },
    blocks: { type: 'string', default: 'seed' },
    iterations: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    workers: { type: 'string' },
  });
  const blocks = parseBlocks(values.blocks!);
  const batches = positiveList(values.batch!, 'batch');
  const [iterations] = positiveList(values.iterations!, 'iterations');
  const workerCounts = values.workers === undefined ? [] : positiveList(values.workers, 'workers');
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
    const report = (row: Measurement) => {
      rows.push(row);
      if (values.json) process.stdout.write(JSON.stringify(row) + '\n');
      else {
        const forward = row.forward_img_s === null ? '' : `forward ${row.forward_img_s} img/s, `;
        const master = row.master_ms === undefined ? '' : `, trainer's share ${row.master_ms} ms per step`;
        const usage = `${row.cores_used} cores busy, ${row.cpu_ms_per_img} CPU ms per image`;
        const cores = row.cores_used === undefined ? '' : ` (${usage}${master})`;
        const what = `${row.backend} batch ${row.batch}, ${row.workers} worker(s)`;
        note(`  ${what}: ${forward}train ${row.train_img_s} img/s${cores}`);
      }
    };
    for (const batch of batches) {
      if (workerCounts.length === 0 || ['wasm', 'cpu'].includes(name) === false) {
        report(await measure(name === 'tensorflow' ? candidate : name, blocks, batch, iterations!, values.profile!));
        continue;
      }
      for (const workers of workerCounts) report(await measureWorkers(name, blocks, batch, iterations!, workers));
    }
  }
  if (!values.json) {
    console.log(`\nResNet blocks [${blocks.join(',')}], ${iterations} timed iterations after one warm-up\n`);
    const columns = ['backend', 'batch', 'workers', 'forward img/s', 'train img/s', 'trainer ms/step', 'cores busy'];
    console.log(`| ${[...columns, 'CPU ms/img'].join(' | ')} |`);
    console.log('|---|---|---|---|---|---|---|---|');
    for (const row of rows) {
      const cells = [row.backend, row.batch, row.workers, row.forward_img_s ?? '–', row.train_img_s];
      cells.push(row.master_ms ?? '–', row.cores_used ?? '–', row.cpu_ms_per_img ?? '–');
      console.log(`| ${cells.join(' | ')} |`);
    }
    for (const row of rows) {
      const same = (r: Measurement) => r.batch === row.batch && r.backend === row.backend;
      const one = rows.find((r) => r.workers === 1 && r.forward_img_s === null && same(r));
      if (!one || row.workers === 1) continue;
      const speedup = (row.train_img_s / one.train_img_s).toFixed(2);
      console.log(`${row.workers} workers: ${speedup}x one worker (batch ${row.batch})`);
    }
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
