/**
 * The training run: the seed's recipe (Adam, softmax cross-entropy, augmented shuffled batches)
 * with TensorBoard logging and checkpoints for the watcher.
 *
 * Into `<logdir>/<run>/` it writes an event file with `train/loss` and `train/accuracy` every
 * `logEvery` steps, `validation/loss` and `validation/accuracy` and the per-class worst-samples
 * grids at each epoch's end, and the run's options as text; checkpoints go to
 * `<logdir>/<run>/checkpoints/step-<samples seen>/` (see src/model/checkpoint.ts). The step of
 * everything is the number of training samples seen, which a resumed run continues upward.
 *
 * `train` wires the pieces: `startRun` (fresh or resumed, settings resolved), the step
 * (`hooks.createStep`, default `createTrainStep`), `runSteps` and its observers.
 */
import { join } from 'node:path';
import { getBackend, type AdamOptimizer } from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../errors.ts';
import { TrainBatches, type Cifar10, type Split } from '../data/index.ts';
import { createAdam, saveCheckpoint } from '../model/checkpoint.ts';
import { disposing } from '../util/dispose.ts';
import { ProgressBar } from './progress.ts';
import { runRecord, settingsMarkdown, type RunSettings, type TrainOptions } from './settings.ts';
import { checkpointsDirOf, startRun } from './start.ts';
import { defaultStepFactory, type StepFactory, type TrainStep } from './step.ts';
import { runSteps, type RunPosition, type StepLoopResult, type TrainObserver } from './step-loop.ts';
import { chooseSubset } from './splits.ts';
import { createValidator } from './validation.ts';
import { writeOnlyNewSteps } from './resume-writer.ts';
import { stopOnAbort } from './observers/abort.ts';
import { CheckpointObserver, type SaveCheckpoint } from './observers/checkpoints.ts';
import { progressLine } from './observers/progress.ts';
import { trainScalars } from './observers/scalars.ts';
import { parallelStepFactory, workersForRun } from './parallel/step-factory.ts';
import { localRunOutput, type RunOutput } from './run-output.ts';

export type { RunSettings, TrainOptions } from './settings.ts';
export { defaultStepFactory, type StepContext, type StepFactory } from './step.ts';

export interface TrainHooks {
  /** Stops the run after the current step (with a checkpoint), as SIGINT does. */
  signal?: AbortSignal;
  /** Receives messages meant for the user (default: stderr, above the progress bar). */
  log?: (line: string) => void;
  /** Default: a bar on stderr. */
  progress?: ProgressBar;
  /** Called after every step (tests, benchmarks). */
  onStep?: (info: { samplesSeen: number; loss: number; accuracy: number }) => void;
  /** How one step is computed (default: one tfjs backend, `createTrainStep`). */
  createStep?: StepFactory;
  /**
   * Where summaries go and what follows each checkpoint saved under `options.logdir` (default:
   * the local run folder itself; object storage: bucket-output.ts).
   */
  output?: RunOutput;
}

export interface TrainResult {
  runDir: string;
  samplesSeen: number;
  /** Epochs fully trained (and validated). */
  epochsCompleted: number;
  checkpoints: string[];
  stoppedEarly: boolean;
  lastValidation?: { loss: number; accuracy: number };
}

/** `await using` for a step that holds resources; a plain function needs none. */
function stepDisposer(step: TrainStep): AsyncDisposable {
  const own = (step as Partial<AsyncDisposable>)[Symbol.asyncDispose];
  return disposing(() => own?.call(step));
}

/** The checkpoint writer of a run: model, Adam state and `checkpoint.json` at a position. */
function checkpointSaver(
  settings: RunSettings,
  model: tfl.LayersModel,
  optimizer: AdamOptimizer,
  output: RunOutput,
): SaveCheckpoint {
  return async (position: RunPosition, validationAccuracy?: number) => {
    const saved = await saveCheckpoint(checkpointsDirOf(settings), {
      model,
      optimizer,
      meta: {
        epoch: position.epoch,
        samplesSeen: position.samplesSeen,
        iterations: optimizer.iterations,
        model: settings.model,
        data: { ...settings.data, positionInEpoch: position.positionInEpoch },
        seed: settings.data.seed,
        ...(validationAccuracy !== undefined ? { validationAccuracy } : {}),
        run: runRecord(settings),
      },
    });
    return output.publish(saved);
  };
}

/** The run's training and validation subsets, checked against the model and the data it was trained on. */
function runSplits(
  settings: RunSettings,
  dataset: Cifar10,
  dataSource: string,
): { trainSplit: Split; valSplit: Split } {
  const { data, model } = settings;
  const numClasses = dataset.classNames.length;
  if (model.numClasses !== numClasses) {
    throw new UserError(
      `the model has ${model.numClasses} classes, the data ${numClasses}; use a matching checkpoint or data set`,
    );
  }
  const trainSplit = chooseSubset(dataset.train, data.maxSamples ?? undefined, data.seed, 'training', 'max-samples');
  const valSplit = chooseSubset(dataset.test, data.valSamples, data.seed, 'validation', 'val-samples');
  if (trainSplit.count !== data.trainSamples) {
    throw new UserError(
      `the data at ${dataSource} gives ${trainSplit.count} training samples, the checkpoint was trained on ` +
        `${data.trainSamples}; resume with the same --data`,
    );
  }
  return { trainSplit, valSplit };
}

/** The run's last lines: why it stopped, and what it did. */
function logEnd(
  log: (line: string) => void,
  settings: RunSettings,
  end: StepLoopResult,
  checkpointsWritten: number,
  seconds: number,
  runLocation: string,
): void {
  if (end.stoppedEarly) log(`stopped at ${end.samplesSeen} samples; continue with --resume --run ${settings.run}`);
  else if (checkpointsWritten === 0) {
    log(
      `nothing to do: run '${settings.run}' already finished ${end.epoch} epoch(s); ` +
        `pass a larger --epochs with --resume to continue`,
    );
  }
  log(
    `done in ${seconds.toFixed(1)} s: ${end.samplesSeen} samples seen, ${checkpointsWritten} checkpoint(s) written, ` +
      `logs in ${runLocation}`,
  );
}

/**
 * Trains (or resumes) a run. Returns after the last epoch, or after the step during which
 * `hooks.signal` was aborted; either way with a checkpoint of the final state.
 */
export async function train(options: TrainOptions, dataset: Cifar10, hooks: TrainHooks = {}): Promise<TrainResult> {
  const progress = hooks.progress ?? new ProgressBar();
  await using _progress = disposing(() => progress.done());
  const log = hooks.log ?? ((line: string) => progress.log(line));
  const startedAt = Date.now();

  const start = await startRun(options, dataset);
  const { settings, position } = start;
  await using _model = disposing(() => start.model.dispose());
  const { data } = settings;
  const numClasses = dataset.classNames.length;
  const runDir = join(settings.logdir, settings.run);
  const output = hooks.output ?? localRunOutput(settings.logdir, settings.run);
  if (start.resumedFrom !== undefined) {
    log(
      `resuming ${output.locationOf(start.resumedFrom)}: epoch ${position.epoch + 1} of ${settings.epochs}, ` +
        `${position.positionInEpoch} samples into it, ${position.samplesSeen} samples seen`,
    );
    if (start.changedOnResume?.length) log(`resuming with ${start.changedOnResume.join(', ')}, as asked`);
  }
  const { trainSplit, valSplit } = runSplits(settings, dataset, options.dataSource);

  const optimizer = await createAdam(start.model, start.optimizerState, { learningRate: settings.learningRate });
  await using _optimizer = disposing(() => optimizer.dispose());
  const resumed = start.resumedFrom !== undefined;
  // Read before our own file exists: the steps the run's earlier processes wrote.
  const written = resumed
    ? await output.writtenSteps().catch((error: unknown) => {
        // A damaged event file must not stop the resume; its steps may then be written again.
        log(`cannot read the steps already written (${(error as Error).message}); writing every point`);
        return new Map<string, number>();
      })
    : undefined;
  await using fileWriter = output.openWriter();
  const writer = written ? writeOnlyNewSteps(fileWriter, written) : fileWriter;
  // Not a setting of the run: a run may resume with another worker count.
  const workers = hooks.createStep ? undefined : workersForRun(options.workers, data.batchSize, getBackend());
  if (workers) log(`workers: ${workers.reason}`);
  const parallel = workers && workers.workers > 1 ? parallelStepFactory(workers.workers, getBackend()) : undefined;
  const createStep = hooks.createStep ?? parallel ?? defaultStepFactory;
  const step = await createStep({ model: start.model, optimizer, numClasses, settings });
  await using _step = stepDisposer(step);

  const extra: Record<string, string> = resumed ? { 'resumed at': `${position.samplesSeen} samples` } : {};
  if (workers) extra['worker threads'] = workers.reason;
  writer.text(resumed ? 'run/resumed' : 'run/options', settingsMarkdown(settings, extra), position.samplesSeen);
  const checkpoints = new CheckpointObserver(checkpointSaver(settings, start.model, optimizer, output), {
    every: settings.checkpointEvery ?? undefined,
    start: position,
    atStart: !resumed,
  });
  const userHook: TrainObserver = {
    onStepEnd: (r) => hooks.onStep?.({ samplesSeen: r.samplesSeen, loss: r.loss, accuracy: r.correct / r.size }),
  };
  const observers = [
    trainScalars(writer, settings.logEvery),
    progressLine(progress),
    userHook,
    checkpoints,
    ...(hooks.signal ? [stopOnAbort(hooks.signal)] : []),
  ];
  if (!resumed) {
    log(
      `run ${output.runLocation}: ${data.trainSamples} training samples per epoch, ${data.valSamples} validation ` +
        `samples, checkpoints in ${output.checkpointsLocation}`,
    );
  }

  const end = await runSteps({
    step,
    batches: new TrainBatches(trainSplit, { batchSize: data.batchSize, seed: data.seed }),
    validate: createValidator({
      model: start.model,
      split: valSplit,
      classNames: dataset.classNames,
      batchSize: data.batchSize,
      writer,
    }),
    epochs: settings.epochs,
    start: position,
    observers,
  });

  const lastValidation = end.validation ?? start.lastValidation;
  logEnd(log, settings, end, checkpoints.written.length, (Date.now() - startedAt) / 1000, output.runLocation);
  return {
    runDir,
    samplesSeen: end.samplesSeen,
    epochsCompleted: end.epoch,
    checkpoints: checkpoints.written,
    stoppedEarly: end.stoppedEarly,
    ...(lastValidation ? { lastValidation: { loss: lastValidation.loss, accuracy: lastValidation.accuracy } } : {}),
  };
}
