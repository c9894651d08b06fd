/**
 * The step loop and nothing else: step through the epochs' batches until the last epoch ends
 * or an observer says stop. How one step is computed is the `TrainStep` handed in (one device,
 * several workers, ...); what happens around the steps (scalars, the progress bar, checkpoints,
 * the abort signal) are `TrainObserver`s, in the shape of tfjs's callbacks and openTSNE's
 * `callback(iteration, error, embedding) -> stop?`.
 */
import type { TrainBatch } from '../data/index.ts';
import type { TrainStep } from './step.ts';

/** Where a run stands. `epoch` counts completed epochs; `samplesSeen` is the TensorBoard step. */
export interface RunPosition {
  epoch: number;
  /** Samples of the current epoch already trained on. */
  positionInEpoch: number;
  samplesSeen: number;
}

/** What observers learn after each step. */
export interface StepReport extends RunPosition {
  epochs: number;
  samplesPerEpoch: number;
  /** Images in this step's batch. */
  size: number;
  /** Mean cross-entropy over the batch. */
  loss: number;
  /** Correctly classified images of the batch. */
  correct: number;
  /** Smoothed training throughput, not counting the time observers take. */
  imagesPerSecond: number;
}

export interface Validation {
  loss: number;
  accuracy: number;
}

/** After an epoch's validation; `epoch` already counts the epoch just finished. */
export interface EpochReport extends RunPosition {
  epochs: number;
  validation: Validation;
}

export interface TrainEndReport extends RunPosition {
  stoppedEarly: boolean;
}

/** `true` stops the run after this step (or epoch). */
export type StopRequest = boolean | void;

/** Every method is optional; the loop awaits each in the order the observers were given. */
export interface TrainObserver {
  onTrainBegin?(position: RunPosition): void | Promise<void>;
  onStepEnd?(report: StepReport): StopRequest | Promise<StopRequest>;
  onEpochEnd?(report: EpochReport): StopRequest | Promise<StopRequest>;
  onTrainEnd?(report: TrainEndReport): void | Promise<void>;
}

/** The epochs' batches, in an order that `(epoch, position in it)` fixes. */
export interface BatchSource {
  readonly samplesPerEpoch: number;
  batches(epoch: number, startOffset: number): Iterable<Pick<TrainBatch, 'x' | 'labels' | 'count' | 'offset'>>;
}

export interface StepLoopInput {
  step: TrainStep;
  batches: BatchSource;
  /** Runs at each epoch's end, before the observers hear of it. */
  validate: (position: RunPosition) => Promise<Validation>;
  /** Epochs in total, counting those before `start`. */
  epochs: number;
  start: RunPosition;
  observers: readonly TrainObserver[];
}

export interface StepLoopResult extends RunPosition {
  stoppedEarly: boolean;
  /** The last epoch end's validation, if an epoch ended. */
  validation?: Validation;
}

/** Exponential moving average of images per second over the steps' own time. */
class Throughput {
  private since = performance.now();
  private average = 0;

  /** Starts the clock for the next step (observers' time does not count). */
  restart(): void {
    this.since = performance.now();
  }

  /** Records a step of `images` that ended now; returns the smoothed rate. */
  record(images: number): number {
    const now = performance.now();
    const rate = (images * 1000) / Math.max(1e-3, now - this.since);
    this.average = this.average === 0 ? rate : 0.8 * this.average + 0.2 * rate;
    this.since = now;
    return this.average;
  }
}

/** Calls `call` on every observer in order; true when any asked to stop. */
async function notify(
  observers: readonly TrainObserver[],
  call: (observer: TrainObserver) => StopRequest | Promise<StopRequest>,
): Promise<boolean> {
  let stop = false;
  for (const observer of observers) stop = (await call(observer)) === true || stop;
  return stop;
}

/** The step's awaits resolve as microtasks, which never let the event loop run (nor a SIGINT handler). */
function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

export async function runSteps(input: StepLoopInput): Promise<StepLoopResult> {
  const { step, batches, validate, epochs, observers } = input;
  const position: RunPosition = { ...input.start };
  const samplesPerEpoch = batches.samplesPerEpoch;
  const throughput = new Throughput();
  let validation: Validation | undefined;
  let stoppedEarly = false;
  await notify(observers, (o) => o.onTrainBegin?.({ ...position }));

  while (position.epoch < epochs && !stoppedEarly) {
    throughput.restart();
    for (const batch of batches.batches(position.epoch, position.positionInEpoch)) {
      const result = await step({ images: batch.x, labels: batch.labels, size: batch.count });
      await yieldToEventLoop();
      position.samplesSeen += batch.count;
      position.positionInEpoch = batch.offset + batch.count;
      const imagesPerSecond = throughput.record(batch.count);
      const report: StepReport = {
        ...position,
        epochs,
        samplesPerEpoch,
        size: batch.count,
        loss: result.loss,
        correct: result.correct,
        imagesPerSecond,
      };
      stoppedEarly = await notify(observers, (o) => o.onStepEnd?.(report));
      throughput.restart();
      if (stoppedEarly) break;
    }
    if (stoppedEarly) break;
    validation = await validate({ ...position });
    position.epoch += 1;
    position.positionInEpoch = 0;
    const report: EpochReport = { ...position, epochs, validation };
    stoppedEarly = await notify(observers, (o) => o.onEpochEnd?.(report));
  }

  await notify(observers, (o) => o.onTrainEnd?.({ ...position, stoppedEarly }));
  return { ...position, stoppedEarly, ...(validation ? { validation } : {}) };
}
