/**
 * Saving a checkpoint: the model, Adam's state and `checkpoint.json`, assembled in a hidden
 * temporary directory and published with one rename.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs-core';
import type * as tflTypes from '@tensorflow/tfjs-layers';
import { UserError, describeFsError } from '../../errors.ts';
import { temporarySibling, writeFileSynced } from '../../util/atomic.ts';
import { makeDirectory } from '../../util/directory.ts';
import { pathExists } from '../../util/exists.ts';
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_JSON,
  checkpointDirName,
  type CheckpointMeta,
  type OptimizerState,
} from './format.ts';
import { weightFileChecksums } from './checksums.ts';
import { fileModelHandler, writeOptimizerState } from './weights-io.ts';

/**
 * Reads Adam's moments off a live optimizer. The optimizer keeps them in the order the
 * gradients were applied, which the training step makes the model's trainable-weight order,
 * so index i belongs to `model.trainableWeights[i]` (the optimizer's own names carry tfjs's
 * de-duplication suffixes and are no use across processes).
 */
export async function captureOptimizerState(
  optimizer: tfTypes.AdamOptimizer,
  model: tflTypes.LayersModel,
): Promise<OptimizerState> {
  const named = await optimizer.getWeights();
  const [iter, ...rest] = named;
  // getWeights makes a fresh scalar for the iteration count; it is ours to dispose.
  iter?.tensor.dispose();
  const trainable = model.trainableWeights;
  const count = rest.length / 2;
  if (count !== 0 && count !== trainable.length) {
    throw new Error(
      `optimizer holds moments for ${count} variables, the model has ${trainable.length} trainable weights`,
    );
  }
  const moments: OptimizerState['moments'] = [];
  for (let i = 0; i < count; i++) {
    const m = rest[i]!.tensor;
    const v = rest[count + i]!.tensor;
    moments.push({
      name: trainable[i]!.originalName,
      shape: [...m.shape],
      m: (await m.data()) as Float32Array,
      v: (await v.data()) as Float32Array,
    });
  }
  const config = optimizer.getConfig();
  return {
    kind: 'adam',
    learningRate: Number(config.learningRate),
    beta1: Number(config.beta1),
    beta2: Number(config.beta2),
    epsilon: Number(config.epsilon),
    iterations: optimizer.iterations,
    moments,
  };
}

export interface SaveCheckpointInput {
  model: tflTypes.LayersModel;
  optimizer: tfTypes.AdamOptimizer;
  /**
   * Everything of checkpoint.json except `format`, `step` (= samplesSeen) and `checksums` (of the
   * files as written); `time` defaults to now.
   */
  meta: Omit<CheckpointMeta, 'format' | 'step' | 'time' | 'checksums'> & { time?: string };
}

/**
 * Writes a complete checkpoint to `<checkpointsDir>/step-<samplesSeen>/` and returns that path.
 * The files go to a hidden temporary directory first, `checkpoint.json` last, then one rename
 * publishes the directory. On any failure the temporary directory is removed and nothing
 * visible changes. An existing checkpoint of the same step is never replaced.
 */
export async function saveCheckpoint(checkpointsDir: string, input: SaveCheckpointInput): Promise<string> {
  const name = checkpointDirName(input.meta.samplesSeen);
  const finalDir = join(checkpointsDir, name);
  await makeDirectory(checkpointsDir, 'create the checkpoint directory');
  if (await pathExists(finalDir)) {
    throw new UserError(`checkpoint ${finalDir} already exists; choose another --run or --logdir, or --resume it`);
  }
  const temporary = temporarySibling(finalDir);
  try {
    await mkdir(temporary);
    await input.model.save(fileModelHandler(temporary));
    await writeOptimizerState(temporary, await captureOptimizerState(input.optimizer, input.model));
    const meta: CheckpointMeta = {
      format: CHECKPOINT_FORMAT,
      step: input.meta.samplesSeen,
      ...input.meta,
      time: input.meta.time ?? new Date().toISOString(),
      checksums: await weightFileChecksums(temporary),
    };
    await writeFileSynced(join(temporary, CHECKPOINT_JSON), JSON.stringify(meta, null, 2) + '\n');
    await rename(temporary, finalDir);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true }).catch(() => undefined);
    if (error instanceof UserError) throw error;
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (typeof code === 'string') throw new UserError(describeFsError(error, 'write checkpoint', finalDir));
    throw error;
  }
  return finalDir;
}
