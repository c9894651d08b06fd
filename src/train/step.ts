/**
 * One optimisation step: forward in training mode (batch norm on batch statistics, moving
 * statistics updated), softmax cross-entropy on the logits, Adam update. Everything the step
 * allocates is released before it returns; the test in test/train checks that
 * `tf.memory().numTensors` stays flat.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { IMAGE_CHANNELS, IMAGE_SIZE } from '../model/resnet.ts';
import type { RunSettings } from './settings.ts';

export interface Batch {
  /** NHWC, scaled to [-1, 1]: `size × 32 × 32 × 3`. */
  images: Float32Array;
  labels: ArrayLike<number>;
  size: number;
}

export interface StepResult {
  /** Mean cross-entropy over the batch. */
  loss: number;
  /** Correctly classified images of the batch (training mode predictions). */
  correct: number;
}

export type TrainStep = (batch: Batch) => Promise<StepResult>;

function labelTensor(labels: ArrayLike<number>, size: number): tf.Tensor1D {
  const values =
    labels instanceof Int32Array ? labels.subarray(0, size) : Int32Array.from({ length: size }, (_, i) => labels[i]!);
  return tf.tensor1d(values, 'int32');
}

/** What the forward and backward pass of one batch leaves: the caller disposes all of it. */
export interface Gradients {
  /** One gradient per variable, in the order the variables were given. */
  grads: tf.Tensor[];
  /** Mean cross-entropy over the batch. */
  loss: tf.Scalar;
  /** Correctly classified images (training mode predictions). */
  correct: tf.Scalar;
}

/**
 * Forward in training mode (batch norm on the batch's statistics, which also updates the moving
 * statistics) and backward: the gradients of the batch's mean loss with respect to `variables`.
 * A worker thread runs this on its slice; `createTrainStep` runs it on the whole batch.
 * `training = false` uses the moving statistics instead (tests: the gradients of a batch's
 * slices then add up exactly to the batch's).
 */
export function computeGradients(
  model: tfl.LayersModel,
  variables: tf.Variable[],
  batch: Batch,
  numClasses: number,
  training = true,
): Gradients {
  return tf.tidy(() => {
    const x = tf.tensor4d(batch.images, [batch.size, IMAGE_SIZE, IMAGE_SIZE, IMAGE_CHANNELS]);
    const labels = labelTensor(batch.labels, batch.size);
    const oneHot = tf.oneHot(labels, numClasses);
    let correctCount: tf.Scalar | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const [logits] = model.apply(x, { training }) as tf.Tensor[];
      // Kept so it survives the gradient tape's tidy; returned (and so kept) by the outer tidy.
      correctCount = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits!, 1), labels), 'float32')) as tf.Scalar);
      return tf.losses.softmaxCrossEntropy(oneHot, logits!) as tf.Scalar;
    }, variables);
    return { grads: variables.map((v) => grads[v.name]!), loss: value, correct: correctCount! };
  });
}

/**
 * Adam's update from gradients given in `variables` order, the order `captureOptimizerState`
 * relies on. Does not dispose the gradients.
 */
export function applyGradients(optimizer: tf.Optimizer, variables: tf.Variable[], grads: tf.Tensor[]): void {
  optimizer.applyGradients(variables.map((v, i) => ({ name: v.name, tensor: grads[i]! })));
}

/** The model's trainable weights as the variables gradients are taken with respect to. */
export function trainableVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/** Binds a step function to a model and its optimizer: `computeGradients`, then `applyGradients`. */
export function createTrainStep(model: tfl.LayersModel, optimizer: tf.Optimizer, numClasses: number): TrainStep {
  const variables = trainableVariables(model);
  return async (batch: Batch): Promise<StepResult> => {
    const { grads, loss, correct } = computeGradients(model, variables, batch, numClasses);
    try {
      applyGradients(optimizer, variables, grads);
    } finally {
      tf.dispose(grads);
    }
    // One tensor, so the step ends in one read-back (a GPU waits for each read separately).
    const both = tf.stack([loss, correct]);
    tf.dispose([loss, correct]);
    try {
      const values = await both.data();
      return { loss: values[0]!, correct: values[1]! };
    } finally {
      both.dispose();
    }
  };
}

export interface EvaluationResult {
  /** Mean cross-entropy. */
  loss: number;
  accuracy: number;
  /** Per-image cross-entropy, for the worst-samples grid. */
  losses: Float32Array;
  predictions: Int32Array;
}

/**
 * Inference-mode loss and accuracy over `count` images given as NHWC [-1, 1] floats, in
 * batches of `batchSize`. `getBatch(start, end)` supplies each slice's images.
 */
export async function evaluate(
  model: tfl.LayersModel,
  count: number,
  labels: ArrayLike<number>,
  numClasses: number,
  batchSize: number,
  getBatch: (start: number, end: number) => Float32Array,
): Promise<EvaluationResult> {
  const losses = new Float32Array(count);
  const predictions = new Int32Array(count);
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(count, start + batchSize);
    const size = end - start;
    const images = getBatch(start, end);
    const [batchLosses, batchPredictions] = tf.tidy((): [tf.Tensor, tf.Tensor] => {
      const x = tf.tensor4d(images, [size, IMAGE_SIZE, IMAGE_SIZE, IMAGE_CHANNELS]);
      const [logits] = model.apply(x, { training: false }) as tf.Tensor[];
      const batchLabels = tf.tensor1d(
        Int32Array.from({ length: size }, (_, i) => labels[start + i]!),
        'int32',
      );
      const perImage = tf.losses.softmaxCrossEntropy(
        tf.oneHot(batchLabels, numClasses),
        logits!,
        undefined,
        undefined,
        tf.Reduction.NONE,
      );
      return [perImage, tf.argMax(logits!, 1)];
    });
    try {
      losses.set((await batchLosses.data()) as Float32Array, start);
      predictions.set((await batchPredictions.data()) as Int32Array, start);
    } finally {
      tf.dispose([batchLosses, batchPredictions]);
    }
  }
  let lossSum = 0;
  let correct = 0;
  for (let i = 0; i < count; i++) {
    lossSum += losses[i]!;
    if (predictions[i] === labels[i]) correct++;
  }
  return { loss: count ? lossSum / count : NaN, accuracy: count ? correct / count : NaN, losses, predictions };
}

/** What a step is computed from; a `StepFactory` turns it into the loop's `TrainStep`. */
export interface StepContext {
  model: tfl.LayersModel;
  optimizer: tf.AdamOptimizer;
  numClasses: number;
  settings: RunSettings;
}

/** Makes the step the loop calls. A step that holds resources may be `AsyncDisposable`. */
export type StepFactory = (context: StepContext) => TrainStep | Promise<TrainStep>;

export const defaultStepFactory: StepFactory = ({ model, optimizer, numClasses }) =>
  createTrainStep(model, optimizer, numClasses);
