/**
 * When to write checkpoints. Like the seed, densely while the embedding changes fastest and
 * sparsely later: every 5,000 samples during the first epoch, every 10,000 during the second,
 * every 50,000 after that (`--checkpoint-every` replaces all three with one interval). Training
 * also checkpoints at step 0 (the watcher's first frame is the untrained network), at each
 * epoch's end (with its validation accuracy) and when it stops.
 */
export const DEFAULT_INTERVALS: readonly number[] = [5_000, 10_000, 50_000];

/** The schedule in words (help text, the run's options): `every` samples, or the default intervals. */
export function describeIntervals(every?: number): string {
  if (every !== undefined) return every.toLocaleString('en-US');
  const [first, second, later] = DEFAULT_INTERVALS.map((n) => n.toLocaleString('en-US'));
  return `${first} in epoch 1, ${second} in epoch 2, ${later} after`;
}

export class CheckpointSchedule {
  /**
   * @param every a fixed interval in samples, or undefined for the dense-then-sparse default.
   * @param lastCheckpoint samples seen at the newest checkpoint (0 for a fresh run).
   */
  constructor(
    private readonly every: number | undefined,
    private lastCheckpoint: number,
  ) {}

  /** Samples between checkpoints while training epoch `epoch` (0-based). */
  interval(epoch: number): number {
    if (this.every !== undefined) return this.every;
    return DEFAULT_INTERVALS[Math.min(epoch, DEFAULT_INTERVALS.length - 1)]!;
  }

  /** Whether a checkpoint is due now that `samplesSeen` samples are done, in epoch `epoch`. */
  due(samplesSeen: number, epoch: number): boolean {
    return samplesSeen - this.lastCheckpoint >= this.interval(epoch);
  }

  /** Records a checkpoint written at `samplesSeen` (also the epoch-end and final ones). */
  written(samplesSeen: number): void {
    this.lastCheckpoint = samplesSeen;
  }

  /** Whether a checkpoint exists at exactly `samplesSeen` (no duplicate at the same step). */
  isWritten(samplesSeen: number): boolean {
    return this.lastCheckpoint === samplesSeen;
  }
}
