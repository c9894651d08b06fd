/**
 * Checkpoints on the schedule (src/train/schedule.ts): at the start of a fresh run (the
 * watcher's first frame is the untrained network), when an interval has passed, at each epoch's
 * end with its validation accuracy, and when the run stops. Never two at the same step.
 */
import { CheckpointSchedule } from '../schedule.ts';
import type { EpochReport, RunPosition, StepReport, TrainEndReport, TrainObserver } from '../step-loop.ts';

/** Writes one checkpoint of the run at `position` and returns its directory. */
export type SaveCheckpoint = (position: RunPosition, validationAccuracy?: number) => Promise<string>;

export interface CheckpointObserverOptions {
  /** Fixed interval in samples; undefined: the default schedule. */
  every: number | undefined;
  start: RunPosition;
  /** Write one before the first step (a fresh run; a resumed one has it already). */
  atStart: boolean;
}

export class CheckpointObserver implements TrainObserver {
  /** Directories written, oldest first. */
  readonly written: string[] = [];
  private readonly schedule: CheckpointSchedule;

  constructor(
    private readonly save: SaveCheckpoint,
    private readonly options: CheckpointObserverOptions,
  ) {
    this.schedule = new CheckpointSchedule(options.every, options.start.samplesSeen);
  }

  async onTrainBegin(position: RunPosition): Promise<void> {
    if (this.options.atStart) await this.write(position);
  }

  async onStepEnd(report: StepReport): Promise<void> {
    // At the epoch's last step the epoch-end checkpoint follows, with the validation accuracy.
    const epochEnds = report.positionInEpoch >= report.samplesPerEpoch;
    if (!epochEnds && this.schedule.due(report.samplesSeen, report.epoch)) await this.write(report);
  }

  async onEpochEnd(report: EpochReport): Promise<void> {
    if (!this.schedule.isWritten(report.samplesSeen)) await this.write(report, report.validation.accuracy);
  }

  async onTrainEnd(report: TrainEndReport): Promise<void> {
    if (!this.schedule.isWritten(report.samplesSeen)) await this.write(report);
  }

  private async write(position: RunPosition, validationAccuracy?: number): Promise<void> {
    const { epoch, positionInEpoch, samplesSeen } = position;
    this.written.push(await this.save({ epoch, positionInEpoch, samplesSeen }, validationAccuracy));
    this.schedule.written(samplesSeen);
  }
}
