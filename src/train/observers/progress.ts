/** The progress bar after every step, and one line per epoch with its validation. */
import type { ProgressBar } from '../progress.ts';
import type { EpochReport, StepReport, TrainObserver } from '../step-loop.ts';

export function progressLine(progress: Pick<ProgressBar, 'update' | 'log'>): TrainObserver {
  return {
    onStepEnd(report: StepReport): void {
      progress.update({
        epoch: report.epoch,
        epochs: report.epochs,
        samplesInEpoch: report.positionInEpoch,
        epochSize: report.samplesPerEpoch,
        loss: report.loss,
        accuracy: report.correct / report.size,
        imagesPerSecond: report.imagesPerSecond,
        remainingSamples: (report.epochs - report.epoch) * report.samplesPerEpoch - report.positionInEpoch,
      });
    },
    onEpochEnd({ epoch, epochs, validation, samplesSeen }: EpochReport): void {
      const accuracy = (validation.accuracy * 100).toFixed(2);
      progress.log(
        `epoch ${epoch}/${epochs}: validation loss ${validation.loss.toFixed(4)}, accuracy ${accuracy}%` +
          ` (${samplesSeen} samples seen)`,
      );
    },
  };
}
