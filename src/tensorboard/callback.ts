/**
 * `tensorBoard(logdir)`: a `model.fit` callback like tfjs-node's, without importing tfjs.
 *
 * tfjs-layers accepts a plain object of `onBatchEnd` / `onEpochEnd` / `onTrainEnd` / … handlers
 * (CustomCallbackArgs) and wraps it in its CustomCallback, which calls the handlers detached
 * from this object: so they are arrow-function properties, bound at construction.
 *
 * Like tfjs-node: training metrics go to `<logdir>/train`, `val_*` metrics to `<logdir>/val`
 * (without the `val_` prefix, so train and val share a chart), tagged `batch_<metric>` every
 * batch (updateFreq 'batch') and `epoch_<metric>` every epoch. Unlike tfjs-node, the step is the
 * number of training samples seen (this project's convention; counted from the `size` tfjs
 * reports per batch), so charts line up with everything else the project logs.
 */
import { join } from 'node:path';
import { summaryFileWriter, type SummaryWriter } from './summary-writer.ts';

export type Logs = Record<string, number | undefined>;

export interface TensorBoardCallbackOptions {
  /** 'batch': batch_* scalars every batch plus epoch_* every epoch; 'epoch': epoch_* only. */
  updateFreq?: 'batch' | 'epoch';
  /** Samples already seen, when resuming a run (steps continue from here). */
  initialStep?: number;
}

/** Keys tfjs puts in batch logs that are not metrics. */
const NOT_METRICS = new Set(['batch', 'size', 'num_steps']);

export class TensorBoardCallback {
  readonly logdir: string;
  readonly updateFreq: 'batch' | 'epoch';
  /** Training samples seen so far: the step of the next scalars. */
  samplesSeen: number;
  private trainWriter: SummaryWriter | undefined;
  private valWriter: SummaryWriter | undefined;

  constructor(logdir: string, options: TensorBoardCallbackOptions = {}) {
    this.logdir = logdir;
    this.updateFreq = options.updateFreq ?? 'epoch';
    this.samplesSeen = options.initialStep ?? 0;
  }

  onBatchEnd = async (_batch: number, logs?: Logs): Promise<void> => {
    const size = logs?.size;
    this.samplesSeen += typeof size === 'number' && size > 0 ? size : 1;
    if (this.updateFreq === 'batch' && logs !== undefined) this.logMetrics(logs, 'batch_');
  };

  onEpochEnd = async (_epoch: number, logs?: Logs): Promise<void> => {
    if (logs !== undefined) this.logMetrics(logs, 'epoch_');
    this.trainWriter?.flush();
    this.valWriter?.flush();
  };

  onTrainEnd = async (_logs?: Logs): Promise<void> => {
    this.trainWriter?.flush();
    this.valWriter?.flush();
  };

  private logMetrics(logs: Logs, prefix: string): void {
    for (const [key, value] of Object.entries(logs)) {
      if (NOT_METRICS.has(key) || typeof value !== 'number') continue;
      if (key.startsWith('val_')) {
        this.valWriter ??= summaryFileWriter(join(this.logdir, 'val'));
        this.valWriter.scalar(prefix + key.slice(4), value, this.samplesSeen);
      } else {
        this.trainWriter ??= summaryFileWriter(join(this.logdir, 'train'));
        this.trainWriter.scalar(prefix + key, value, this.samplesSeen);
      }
    }
  }
}

/** A `model.fit` callback writing train/val scalars to TensorBoard under `logdir`. */
export function tensorBoard(logdir = './logs', options: TensorBoardCallbackOptions = {}): TensorBoardCallback {
  return new TensorBoardCallback(logdir, options);
}
