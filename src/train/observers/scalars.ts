/** `train/loss`, `train/accuracy` and `train/images_per_second`, averaged over every `logEvery` steps. */
import type { SummaryWriter } from '../../tensorboard/index.ts';
import type { StepReport, TrainObserver } from '../step-loop.ts';

export function trainScalars(writer: Pick<SummaryWriter, 'scalar'>, logEvery: number): TrainObserver {
  let loss = 0;
  let correct = 0;
  let samples = 0;
  let steps = 0;
  return {
    onStepEnd(report: StepReport): void {
      loss += report.loss;
      correct += report.correct;
      samples += report.size;
      steps += 1;
      if (steps < logEvery) return;
      writer.scalar('train/loss', loss / steps, report.samplesSeen);
      writer.scalar('train/accuracy', correct / samples, report.samplesSeen);
      writer.scalar('train/images_per_second', report.imagesPerSecond, report.samplesSeen);
      loss = correct = samples = steps = 0;
    },
  };
}
