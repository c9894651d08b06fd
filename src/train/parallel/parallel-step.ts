/**
 * A training step spread over worker threads (data parallel, like PyTorch's
 * DistributedDataParallel): the trainer writes the batch into shared memory, each worker
 * computes the gradients of its slice, the workers average them weighted by slice size (each
 * one segment of the row), and the trainer applies one Adam update to its own master copy of
 * the weights, then publishes the new weights for the workers to load at the next step. The
 * replicas are therefore identical by construction; `checkReplicas` proves it bit for bit.
 *
 * Batch norm uses each worker's own slice statistics in the forward pass (no synchronised batch
 * norm); the moving statistics kept by the master (and so by checkpoints) are the workers'
 * average, weighted like the gradients.
 *
 * Why the master applies the update (rather than every worker its own Adam): checkpoints,
 * validation and resume keep working on the trainer's model and optimizer unchanged, the
 * workers hold no Adam moments (less memory each), and identical weights do not depend on every
 * worker's arithmetic being deterministic.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ModelOptions } from '../../model/resnet.ts';
import { applyGradients, trainableVariables, type Batch, type StepResult, type TrainStep } from '../step.ts';
import { weightsChecksum } from './checksum.ts';
import { Exchange, IMAGE_FLOATS, STAT_CORRECT, STAT_LOSS, parameterLayout, type ParameterLayout } from './exchange.ts';
import { WorkerPool } from './pool.ts';
import { planSlices } from './slices.ts';

export interface ParallelStepOptions {
  model: tfl.LayersModel;
  modelOptions: ModelOptions;
  optimizer: tf.Optimizer;
  numClasses: number;
  workers: number;
  /** Largest batch the step will be given. */
  maxBatch: number;
  /** tfjs backend for the workers (the trainer's own). */
  backend: string;
  /** Default true; false: batch norm on the moving statistics (tests, see `computeGradients`). */
  training?: boolean;
  /** Compare the replicas' weights checksums with the master's every this many steps (0: never). */
  checkEvery?: number;
}

/** Milliseconds of one step, by part, for the benchmark. */
export interface StepTimings {
  workers: number;
  average: number;
  apply: number;
  publish: number;
}

/** The slices' gradients averaged, before any update: a row as laid out by `layout`. */
export interface AveragedGradients {
  /** Trainable gradients, then the averaged moving statistics. Valid until the next call. */
  row: Float32Array;
  layout: ParameterLayout;
  loss: number;
  correct: number;
}

export interface ParallelTrainStep {
  step: TrainStep;
  /** The first half of a step: the workers' gradients of `batch`, averaged; nothing applied. */
  gradients: (batch: Batch) => Promise<AveragedGradients>;
  /** Each worker's checksum and the master's; throws when one differs. */
  checkReplicas: () => Promise<{ master: string; workers: string[] }>;
  /** Time spent in each part of the last step. */
  lastTimings: () => StepTimings;
  close: () => Promise<void>;
  pool: WorkerPool;
}

function copyBatch(exchange: Exchange, batch: Batch): void {
  if (batch.size > exchange.maxBatch)
    throw new RangeError(`a batch of ${batch.size} images, the workers were sized for ${exchange.maxBatch}`);
  exchange.images.set(batch.images.subarray(0, batch.size * IMAGE_FLOATS));
  for (let i = 0; i < batch.size; i++) exchange.labels[i] = batch.labels[i]!;
}

export async function createParallelTrainStep(options: ParallelStepOptions): Promise<ParallelTrainStep> {
  const { model, optimizer, workers, checkEvery = 0 } = options;
  const trainable = trainableVariables(model);
  const moving = model.nonTrainableWeights.map((w) => w.read() as tf.Variable);
  const describe = (v: tf.Variable, i: number, list: tfl.LayerVariable[]) => ({
    name: list[i]!.originalName,
    shape: [...v.shape],
  });
  const trainableSpecs = trainable.map((v, i) => describe(v, i, model.trainableWeights));
  const movingSpecs = moving.map((v, i) => describe(v, i, model.nonTrainableWeights));
  const layout = parameterLayout(trainableSpecs, movingSpecs);
  const exchange = Exchange.allocate(layout, workers, options.maxBatch);
  const average = exchange.average;
  let weightsVersion = 0;
  let steps = 0;
  let timings: StepTimings = { workers: 0, average: 0, apply: 0, publish: 0 };

  /** Writes the master's weights into shared memory and bumps their version. */
  const publish = async () => {
    for (let i = 0; i < trainable.length; i++)
      exchange.weights.set((await trainable[i]!.data()) as Float32Array, layout.trainable[i]!.offset);
    for (let i = 0; i < moving.length; i++)
      exchange.weights.set((await moving[i]!.data()) as Float32Array, layout.moving[i]!.offset);
    weightsVersion += 1;
  };
  await publish();
  const pool = await WorkerPool.start({
    exchange,
    backend: options.backend,
    init: {
      model: options.modelOptions,
      trainable: trainableSpecs,
      moving: movingSpecs,
      numClasses: options.numClasses,
      training: options.training ?? true,
    },
  });

  const checkReplicas = async () => {
    const master = weightsChecksum([exchange.weights]);
    const own: Float32Array[] = [];
    for (const v of [...trainable, ...moving]) own.push((await v.data()) as Float32Array);
    if (weightsChecksum(own) !== master) throw new Error('the published weights differ from the master weights');
    const replicas = await pool.checksums(weightsVersion);
    replicas.forEach((checksum, w) => {
      if (checksum !== master)
        throw new Error(
          `worker ${w + 1} of ${workers} holds other weights than the trainer ` +
            `(checksum ${checksum}, expected ${master}) after ${steps} steps`,
        );
    });
    return { master, workers: replicas };
  };

  let lastWorkers = 0;
  let lastAverage = 0;
  const gradients = async (batch: Batch): Promise<AveragedGradients> => {
    const t0 = performance.now();
    copyBatch(exchange, batch);
    const slices = planSlices(batch.size, workers);
    await pool.step(slices, weightsVersion);
    const t1 = performance.now();
    // Each row is the gradient of its slice's mean loss: weighted by the slices' shares, the
    // average is the gradient of the whole batch's mean loss.
    const shares = slices.map((s) => s.count / batch.size);
    await pool.reduce(shares);
    let loss = 0;
    let correct = 0;
    slices.forEach((_, w) => {
      loss += shares[w]! * exchange.stat(w, STAT_LOSS);
      correct += exchange.stat(w, STAT_CORRECT);
    });
    lastWorkers = t1 - t0;
    lastAverage = performance.now() - t1;
    return { row: average, layout, loss, correct };
  };

  const step: TrainStep = async (batch) => {
    const { loss, correct } = await gradients(batch);
    const t2 = performance.now();
    tf.tidy(() => {
      const grads = layout.trainable.map(({ offset, size, shape }) =>
        tf.tensor(average.subarray(offset, offset + size), shape),
      );
      applyGradients(optimizer, trainable, grads);
      // A copy: a variable may keep the array it was assigned from (cpu backend).
      layout.moving.forEach(({ offset, size, shape }, i) =>
        moving[i]!.assign(tf.tensor(average.slice(offset, offset + size), shape)),
      );
    });
    const t3 = performance.now();
    await publish();
    timings = { workers: lastWorkers, average: lastAverage, apply: t3 - t2, publish: performance.now() - t3 };
    steps += 1;
    if (checkEvery > 0 && steps % checkEvery === 0) await checkReplicas();
    return { loss, correct } satisfies StepResult;
  };

  return { step, gradients, checkReplicas, lastTimings: () => timings, close: () => pool.close(), pool };
}
