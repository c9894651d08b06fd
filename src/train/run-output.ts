/**
 * Where a training run's outputs go. The training loop always saves checkpoints into a local
 * folder first (with one rename, see model/checkpoint/save.ts); a `RunOutput` says where the
 * summaries are written and what happens to each saved checkpoint: nothing more for a local log
 * directory, an upload for object storage (bucket-output.ts).
 */
import { join } from 'node:path';
import { checkpointsDir } from '../layout.ts';
import { lastStepsByTag, summaryFileWriter } from '../tensorboard/index.ts';
import type { TrainWriter } from './resume-writer.ts';

export interface RunOutput {
  /** The run's folder, for messages: `logs/run` or `s3://bucket/prefix/run`. */
  readonly runLocation: string;
  readonly checkpointsLocation: string;
  /** tag → the highest step the run's event files already hold (read before resuming). */
  writtenSteps(): Promise<Map<string, number>>;
  /** The run's summary writer; the caller disposes it. */
  openWriter(): TrainWriter & AsyncDisposable;
  /** Called with each checkpoint once saved locally; returns where it is for the user. */
  publish(localDir: string): Promise<string>;
  /** Where a local checkpoint folder of the run is published, for messages. */
  locationOf(localDir: string): string;
}

/** The run in a local log directory: summaries appended to its event file, checkpoints where they were saved. */
export function localRunOutput(logdir: string, run: string): RunOutput {
  const runDir = join(logdir, run);
  return {
    runLocation: runDir,
    checkpointsLocation: checkpointsDir(runDir),
    writtenSteps: () => lastStepsByTag(runDir),
    openWriter: () => summaryFileWriter(runDir),
    publish: async (localDir) => localDir,
    locationOf: (localDir) => localDir,
  };
}
