/**
 * Loading a checkpoint into tfjs: the LayersModel with its weights, and a live Adam optimizer
 * continuing from the saved moments. tfjs is imported on demand, so the rest of the checkpoint
 * module works without a backend.
 */
import type * as tfTypes from '@tensorflow/tfjs-core';
import type * as tflTypes from '@tensorflow/tfjs-layers';
import { TransientError, UserError } from '../../errors.ts';
import type { CheckpointMeta, OptimizerState } from './format.ts';
import { readCheckpointMeta } from './validate.ts';
import { fileModelHandler, readOptimizerState } from './weights-io.ts';

/**
 * A fresh Adam optimizer for `model`, continuing from `state` when given: the moments are
 * matched to the model's trainable weights by name and put in the order the training step
 * applies gradients.
 */
export async function createAdam(
  model: tflTypes.LayersModel,
  state: OptimizerState | undefined,
  hyper: { learningRate: number; beta1?: number; beta2?: number; epsilon?: number },
): Promise<tfTypes.AdamOptimizer> {
  const tf = await import('@tensorflow/tfjs-core');
  // Fused on webgpu (our kernels), tfjs's own AdamOptimizer elsewhere; the same state layout.
  const { createAdamOptimizer } = await import('../../backend/optimizers/fused_adam.ts');
  const { learningRate, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7 } = hyper;
  const optimizer = createAdamOptimizer(learningRate, beta1, beta2, epsilon);
  if (!state || (state.iterations === 0 && state.moments.length === 0)) return optimizer;
  const byName = new Map(state.moments.map((entry) => [entry.name, entry]));
  const trainable = model.trainableWeights;
  if (state.moments.length !== trainable.length) {
    throw new UserError(
      `optimizer state holds moments for ${state.moments.length} weights but the model has ${trainable.length}; the ` +
        `checkpoint does not belong to this model`,
    );
  }
  const ordered = trainable.map((w) => {
    const entry = byName.get(w.originalName);
    if (!entry)
      throw new UserError(
        `optimizer state has no moments for weight '${w.originalName}'; the checkpoint does not belong to this model`,
      );
    if (entry.shape.join(',') !== w.shape.join(',')) {
      throw new UserError(
        `optimizer moments of '${w.originalName}' have shape ${JSON.stringify(entry.shape)}, the weight ` +
          `${JSON.stringify(w.shape)}; the checkpoint does not belong to this model`,
      );
    }
    return entry;
  });
  const iter = tf.scalar(state.iterations, 'int32');
  const firsts = ordered.map((e) => ({ name: `${e.name}/m`, tensor: tf.tensor(e.m, e.shape) }));
  const seconds = ordered.map((e) => ({ name: `${e.name}/v`, tensor: tf.tensor(e.v, e.shape) }));
  await optimizer.setWeights([{ name: 'iter', tensor: iter }, ...firsts, ...seconds]);
  // setWeights turned each tensor into a variable sharing its data; drop our references.
  tf.dispose([iter, ...firsts.map((f) => f.tensor), ...seconds.map((s) => s.tensor)]);
  return optimizer;
}

export interface LoadedCheckpoint {
  model: tflTypes.LayersModel;
  meta: CheckpointMeta;
  optimizerState: OptimizerState;
}

/** Loads a checkpoint directory: the tfjs model (weights in place), its metadata and Adam state. */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const meta = await readCheckpointMeta(dir);
  const optimizerState = await readOptimizerState(dir);
  const model = await loadCheckpointModel(dir);
  return { model, meta, optimizerState };
}

/** The checkpoint's tfjs LayersModel alone (weights in place, no optimizer state). */
export async function loadCheckpointModel(dir: string): Promise<tflTypes.LayersModel> {
  const tfl = await import('@tensorflow/tfjs-layers');
  try {
    return await tfl.loadLayersModel(fileModelHandler(dir));
  } catch (error) {
    if (error instanceof UserError || error instanceof TransientError) throw error;
    throw new UserError(
      `cannot load the model of checkpoint ${dir}: ${(error as Error).message}; use another checkpoint`,
    );
  }
}
