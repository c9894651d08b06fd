/**
 * Validation at each epoch's end: inference-mode loss and accuracy on the validation split,
 * written as `validation/loss` and `validation/accuracy` with the per-class worst-samples grids.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { IMAGE_BYTES, toModelInput, type Split } from '../data/index.ts';
import type { SummaryWriter } from '../tensorboard/index.ts';
import { evaluate, type EvaluationResult } from './step.ts';
import type { RunPosition } from './step-loop.ts';
import { worstSampleGrids } from './worst-samples.ts';

export interface ValidatorInput {
  model: tfl.LayersModel;
  split: Split;
  classNames: readonly string[];
  batchSize: number;
  writer: Pick<SummaryWriter, 'scalar' | 'image' | 'flush'>;
}

export function createValidator(input: ValidatorInput): (position: RunPosition) => Promise<EvaluationResult> {
  const { model, split, classNames, batchSize, writer } = input;
  return async ({ samplesSeen }) => {
    const result = await evaluate(model, split.count, split.labels, classNames.length, batchSize, (start, end) =>
      toModelInput(split.images.subarray(start * IMAGE_BYTES, end * IMAGE_BYTES)),
    );
    writer.scalar('validation/loss', result.loss, samplesSeen);
    writer.scalar('validation/accuracy', result.accuracy, samplesSeen);
    for (const { className, grid } of worstSampleGrids(split.images, split.labels, result.losses, classNames)) {
      writer.image(`worst_samples/${className}`, grid, samplesSeen);
    }
    writer.flush();
    return result;
  };
}
