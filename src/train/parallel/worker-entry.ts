/**
 * One training worker thread: its own tfjs backend (wasm, with the project's kernels and
 * gradients) and its own replica of the model. For each step it loads the trainer's current
 * weights if they changed, computes the gradients of its slice of the batch and writes them,
 * with its moving statistics, loss and correct count, into its row of the shared memory.
 * Started by pool.ts; never imported by the trainer itself.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initBackend, type BackendChoice } from '../../backend/index.ts';
import { buildResNet } from '../../model/resnet.ts';
import { computeGradients, trainableVariables } from '../step.ts';
import { weightsChecksum } from './checksum.ts';
import { Exchange, parameterLayout, type TensorSpan } from './exchange.ts';
import type { FromWorker, InitMessage, StepMessage, ToWorker } from './protocol.ts';

const port = parentPort;
if (port === null) throw new Error('worker-entry.ts must run in a worker thread');
const reply = (message: FromWorker) => port.postMessage(message);

interface Replica {
  init: InitMessage;
  exchange: Exchange;
  model: tfl.LayersModel;
  trainable: tf.Variable[];
  moving: tf.Variable[];
  weightsVersion: number;
}

function checkSameWeights(kind: string, ours: tf.Variable[], spans: TensorSpan[]): void {
  if (ours.length !== spans.length)
    throw new Error(`the replica has ${ours.length} ${kind} weights, the trainer ${spans.length}`);
  ours.forEach((v, i) => {
    const span = spans[i]!;
    if (v.shape.join('x') !== span.shape.join('x'))
      throw new Error(
        `${kind} weight ${i} (${span.name}): replica ${v.shape.join('x')}, trainer ${span.shape.join('x')}`,
      );
  });
}

async function start(init: InitMessage): Promise<Replica> {
  await initBackend(init.backend as BackendChoice, { log: () => undefined });
  const layout = parameterLayout(init.trainable, init.moving);
  const exchange = new Exchange(init.buffers, layout, init.workers);
  // The seed does not matter: the trainer's weights replace the initial ones before every step.
  const model = buildResNet({ ...init.model, seed: 0 });
  const trainable = trainableVariables(model);
  const moving = model.nonTrainableWeights.map((w) => w.read() as tf.Variable);
  checkSameWeights('trainable', trainable, layout.trainable);
  checkSameWeights('moving', moving, layout.moving);
  return { init, exchange, model, trainable, moving, weightsVersion: -1 };
}

/** Copies the shared weights into the replica's variables (bit for bit). */
function loadWeights(replica: Replica, version: number): void {
  if (replica.weightsVersion === version) return;
  const { exchange } = replica;
  const assign = (variables: tf.Variable[], spans: TensorSpan[]) =>
    variables.forEach((v, i) => {
      const { offset, size, shape } = spans[i]!;
      // tf.tensor copies the values, so the shared memory can change under it afterwards.
      tf.tidy(() => v.assign(tf.tensor(exchange.weights.slice(offset, offset + size), shape)));
    });
  assign(replica.trainable, exchange.layout.trainable);
  assign(replica.moving, exchange.layout.moving);
  replica.weightsVersion = version;
}

async function step(replica: Replica, message: StepMessage): Promise<void> {
  loadWeights(replica, message.weightsVersion);
  const { exchange, model, trainable, moving, init } = replica;
  const slice = { start: message.start, count: message.count };
  // Copies: tfjs's cpu backend keeps the array a tensor was made from.
  const batch = {
    images: exchange.sliceImages(slice).slice(),
    labels: exchange.sliceLabels(slice).slice(),
    size: slice.count,
  };
  const { grads, loss, correct } = computeGradients(model, trainable, batch, init.numClasses, init.training);
  try {
    const row = exchange.row(init.index);
    const { layout } = exchange;
    for (let i = 0; i < grads.length; i++)
      row.set((await grads[i]!.data()) as Float32Array, layout.trainable[i]!.offset);
    // The moving statistics as this slice's batch statistics left them: they are averaged too.
    for (let i = 0; i < moving.length; i++)
      row.set((await moving[i]!.data()) as Float32Array, layout.moving[i]!.offset);
    const [lossValue, correctValue] = await Promise.all([loss.data(), correct.data()]);
    exchange.setStats(init.index, lossValue[0]!, correctValue[0]!);
  } finally {
    tf.dispose([...grads, loss, correct]);
  }
}

async function checksum(replica: Replica, weightsVersion: number): Promise<string> {
  loadWeights(replica, weightsVersion);
  const arrays: Float32Array[] = [];
  for (const v of [...replica.trainable, ...replica.moving]) arrays.push((await v.data()) as Float32Array);
  return weightsChecksum(arrays);
}

let replica: Promise<Replica> | undefined;
// One message at a time, in order: the trainer never sends a step before the previous answer.
let queue: Promise<void> = Promise.resolve();

port.on('message', (message: ToWorker) => {
  queue = queue.then(async () => {
    try {
      if (message.type === 'init') {
        replica = start(message);
        await replica;
        reply({ type: 'ready', index: message.index });
      } else if (message.type === 'step') {
        await step(await replica!, message);
        reply({ type: 'stepped', id: message.id });
      } else if (message.type === 'reduce') {
        (await replica!).exchange.averageSegment(message.from, message.to, message.shares);
        reply({ type: 'reduced', id: message.id });
      } else {
        reply({ type: 'checksum', id: message.id, checksum: await checksum(await replica!, message.weightsVersion) });
      }
    } catch (error) {
      reply({ type: 'failed', message: (error as Error)?.message ?? String(error), stack: (error as Error)?.stack });
    }
  });
});
