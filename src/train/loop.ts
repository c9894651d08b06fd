/**
 * The training run: the seed's recipe (Adam, softmax cross-entropy, augmented shuffled batches)
 * with TensorBoard logging and checkpoints for the watcher.
 *
 * Into `<logdir>/<run>/` it writes an event file with `train/loss` and `train/accuracy` every
 * `logEvery` steps, `validation/loss` and `validation/accuracy` and the per-class worst-samples
 * grids at each epoch's end, and the run's options as text; checkpoints go to
 * `<logdir>/<run>/checkpoints/step-<samples seen>/` (see src/model/checkpoint.ts). The step of
 * everything is the number of training samples seen, which a resumed run continues upward.
 */
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../errors.ts';
import { IMAGE_BYTES, TrainBatches, stratifiedSubset, toModelInput, type Cifar10, type Split } from '../data/index.ts';
import { buildResNet, resolveModelOptions, type ModelOptions } from '../model/resnet.ts';
import {
  createAdam,
  latestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
  type CheckpointMeta,
} from '../model/checkpoint.ts';
import { summaryFileWriter, type SummaryWriter } from '../tensorboard/index.ts';
import { CheckpointSchedule } from './schedule.ts';
import { ProgressBar } from './progress.ts';
import { createTrainStep, evaluate } from './step.ts';
import { worstSampleGrids } from './worst-samples.ts';

export interface TrainOptions {
  logdir: string;
  run: string;
  /**
   * Epochs to train in total, counting those before a resume. Default 1; when resuming, the
   * run's own target, or one more epoch when the run had finished.
   */
  epochs?: number;
  /**
   * Stages of basic blocks (default the seed's 6,6,12). When resuming, the checkpoint's model
   * is used; a value given here must match it.
   */
  blocks?: number[];
  widths?: number[];
  stemChannels?: number;
  /** Train on a stratified subset of this many training images (default: all). */
  maxSamples?: number;
  /** Default 256. */
  batchSize?: number;
  learningRate: number;
  /** Default 0. */
  seed?: number;
  /** Fixed checkpoint interval in samples (undefined: dense early, sparse later). */
  checkpointEvery?: number;
  /** Evaluate on a stratified subset of this many test images (default: all). */
  valSamples?: number;
  /** Steps between `train/*` scalars. */
  logEvery: number;
  /**
   * Continue the newest checkpoint of `<logdir>/<run>/checkpoints/`. Batch size, seed and the
   * sample counts then come from the checkpoint (given ones must match, or the data order would
   * change under the run's feet).
   */
  resume: boolean;
  /** Recorded in the run's text summary and checkpoints. */
  dataSource: string;
  backend?: string;
}

export const DEFAULT_BLOCKS: readonly number[] = [6, 6, 12];
export const DEFAULT_BATCH_SIZE = 256;
export const DEFAULT_SEED = 0;

export interface TrainHooks {
  /** Stops the run after the current step (with a checkpoint), as SIGINT does. */
  signal?: AbortSignal;
  /** Receives messages meant for the user (default: stderr, above the progress bar). */
  log?: (line: string) => void;
  /** Default: a bar on stderr. */
  progress?: ProgressBar;
  /** Called after every step (tests, benchmarks). */
  onStep?: (info: { samplesSeen: number; loss: number; accuracy: number }) => void;
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

/** The data part of checkpoint.json: what fixes the order of batches, and where a run stands in it. */
interface DataRecord {
  source: string;
  trainFiles: string[];
  trainSamples: number;
  maxSamples: number | null;
  valSamples: number;
  batchSize: number;
  seed: number;
  augmentation: string;
  /** Samples of the current epoch already trained on. */
  positionInEpoch: number;
}

/** A copy of the images and labels at `indices` of `split`. */
function subsetSplit(split: Split, indices: Int32Array): Split {
  const images = new Uint8Array(indices.length * IMAGE_BYTES);
  const labels = new Uint8Array(indices.length);
  indices.forEach((index, k) => {
    images.set(split.images.subarray(index * IMAGE_BYTES, (index + 1) * IMAGE_BYTES), k * IMAGE_BYTES);
    labels[k] = split.labels[index]!;
  });
  return { images, labels, count: indices.length };
}

function chooseSubset(split: Split, size: number | undefined, seed: number, what: string, flag: string): Split {
  if (size === undefined || size >= split.count) return split;
  if (size < 1) throw new UserError(`--${flag} must be at least 1, got ${size}`);
  const subset = subsetSplit(split, stratifiedSubset(split.labels, size, seed));
  if (subset.count !== size) throw new Error(`${what} subset has ${subset.count} images, ${size} asked for`);
  return subset;
}

function optionsMarkdown(options: TrainOptions, epochs: number, model: ModelOptions, data: DataRecord, extra: Record<string, string>): string {
  const rows: [string, string][] = [
    ['data', options.dataSource],
    ['training files', data.trainFiles.join(', ')],
    ['training samples per epoch', String(data.trainSamples)],
    ['validation samples', String(data.valSamples)],
    ['epochs', String(epochs)],
    ['batch size', String(data.batchSize)],
    ['learning rate (Adam)', String(options.learningRate)],
    ['seed', String(data.seed)],
    ['augmentation', data.augmentation],
    ['blocks', model.blocks.join(',')],
    ['widths', model.widths.join(',')],
    ['stem channels', String(model.stemChannels)],
    ['checkpoint every', options.checkpointEvery ? `${options.checkpointEvery} samples` : '5,000 / 10,000 / 50,000 samples (epoch 1 / 2 / later)'],
    ['backend', options.backend ?? 'unknown'],
    ...Object.entries(extra),
  ];
  return ['| option | value |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v.replaceAll('|', '\\|')} |`)].join('\n');
}

/** Throws when an option given now contradicts the checkpoint being resumed. */
function checkResumable(options: TrainOptions, meta: CheckpointMeta, data: DataRecord, dir: string): void {
  const clash = (flag: string, now: unknown, then: unknown) => {
    throw new UserError(`--${flag} ${now} differs from ${then} of the checkpoint ${dir}; leave it out to resume with the checkpoint's value, or start a new --run`);
  };
  const given = <T>(value: T | undefined, then: T, flag: string, show = (v: T) => String(v)) => {
    if (value !== undefined && show(value) !== show(then)) clash(flag, show(value), show(then));
  };
  given(options.batchSize, data.batchSize, 'batch-size');
  given(options.seed, data.seed, 'seed');
  given(options.maxSamples, data.maxSamples ?? Infinity, 'max-samples');
  given(options.valSamples, data.valSamples, 'val-samples');
  given(options.blocks, meta.model.blocks, 'blocks', (b) => b.join(','));
}

/** Reads the data record of a checkpoint written by this module. */
function dataRecordOf(meta: CheckpointMeta, dir: string): DataRecord {
  const d = meta.data as Partial<DataRecord>;
  const ints = ['trainSamples', 'valSamples', 'batchSize', 'seed', 'positionInEpoch'] as const;
  for (const field of ints) {
    if (!Number.isInteger(d[field])) throw new UserError(`${dir}/checkpoint.json: data.${field} is missing; this checkpoint cannot be resumed, start a new --run`);
  }
  return d as DataRecord;
}

/**
 * Trains (or resumes) a run. Returns after the last epoch, or after the step during which
 * `hooks.signal` was aborted; either way with a checkpoint of the final state.
 */
export async function train(options: TrainOptions, dataset: Cifar10, hooks: TrainHooks = {}): Promise<TrainResult> {
  const progress = hooks.progress ?? new ProgressBar();
  const log = hooks.log ?? ((line: string) => progress.log(line));
  const runDir = join(options.logdir, options.run);
  const checkpointsDir = join(runDir, 'checkpoints');
  const numClasses = dataset.classNames.length;

  // --- Where to start: a fresh network, or the newest checkpoint.
  let model: tfl.LayersModel;
  let modelOptions: ModelOptions;
  let optimizerState: Awaited<ReturnType<typeof loadCheckpoint>>['optimizerState'] | undefined;
  let samplesSeen = 0;
  let epoch = 0;
  let positionInEpoch = 0;
  let data: DataRecord;
  let lastValidation: TrainResult['lastValidation'];
  let epochs = options.epochs ?? 1;

  if (options.resume) {
    const latest = await latestCheckpoint(checkpointsDir);
    if (!latest) throw new UserError(`--resume: no complete checkpoint in ${checkpointsDir}; check --logdir and --run, or start without --resume`);
    const loaded = await loadCheckpoint(latest.dir);
    data = dataRecordOf(loaded.meta, latest.dir);
    try {
      checkResumable(options, loaded.meta, data, latest.dir);
    } catch (error) {
      loaded.model.dispose();
      throw error;
    }
    model = loaded.model;
    modelOptions = loaded.meta.model;
    optimizerState = loaded.optimizerState;
    samplesSeen = loaded.meta.samplesSeen;
    epoch = loaded.meta.epoch;
    positionInEpoch = data.positionInEpoch;
    if (options.epochs === undefined) {
      const planned = Number((loaded.meta.run as { epochs?: unknown } | undefined)?.epochs);
      epochs = Number.isInteger(planned) && planned > epoch ? planned : epoch + 1;
    }
    if (loaded.meta.validationAccuracy !== undefined) lastValidation = { loss: NaN, accuracy: loaded.meta.validationAccuracy };
    log(`resuming ${latest.dir}: epoch ${epoch + 1} of ${epochs}, ${positionInEpoch} samples into it, ${samplesSeen} samples seen`);
  } else {
    const existing = await listCheckpoints(checkpointsDir);
    if (existing.length > 0) {
      throw new UserError(`run '${options.run}' in ${options.logdir} already has ${existing.length} checkpoint(s); pass --resume to continue it, or choose another --run`);
    }
    modelOptions = resolveModelOptions({ blocks: options.blocks ?? [...DEFAULT_BLOCKS], widths: options.widths, stemChannels: options.stemChannels, numClasses });
    const seed = options.seed ?? DEFAULT_SEED;
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new UserError(`--batch-size must be a positive integer, got ${batchSize}`);
    model = buildResNet({ ...modelOptions, seed });
    data = {
      source: options.dataSource,
      trainFiles: dataset.trainFiles,
      trainSamples: Math.min(options.maxSamples ?? dataset.train.count, dataset.train.count),
      maxSamples: options.maxSamples ?? null,
      valSamples: Math.min(options.valSamples ?? dataset.test.count, dataset.test.count),
      batchSize,
      seed,
      augmentation: 'flip, crop 32 from 4-pixel padding, rotation ±15° (seed)',
      positionInEpoch: 0,
    };
  }
  let optimizer: tf.AdamOptimizer | undefined;
  let writer: SummaryWriter | undefined;
  try {
    if (modelOptions.numClasses !== numClasses) {
      throw new UserError(`the model has ${modelOptions.numClasses} classes, the data ${numClasses}; use a matching checkpoint or data set`);
    }
    const trainSplit = chooseSubset(dataset.train, data.maxSamples ?? undefined, data.seed, 'training', 'max-samples');
    const valSplit = chooseSubset(dataset.test, data.valSamples, data.seed, 'validation', 'val-samples');
    if (trainSplit.count !== data.trainSamples) {
      throw new UserError(`the data at ${options.dataSource} gives ${trainSplit.count} training samples, the checkpoint was trained on ${data.trainSamples}; resume with the same --data`);
    }
    optimizer = await createAdam(model, optimizerState, { learningRate: options.learningRate });
    writer = summaryFileWriter(runDir);
    return await trainFrom({ options, dataset, hooks, log, progress, runDir, checkpointsDir, model, modelOptions, optimizer, writer, data, trainSplit, valSplit, epochs, samplesSeen, epoch, positionInEpoch, lastValidation });
  } finally {
    progress.done();
    if (writer) {
      writer.flush();
      await writer.close();
    }
    optimizer?.dispose();
    model.dispose();
  }
}

interface RunState {
  options: TrainOptions;
  dataset: Cifar10;
  hooks: TrainHooks;
  log: (line: string) => void;
  progress: ProgressBar;
  runDir: string;
  checkpointsDir: string;
  model: tfl.LayersModel;
  modelOptions: ModelOptions;
  optimizer: tf.AdamOptimizer;
  writer: SummaryWriter;
  data: DataRecord;
  trainSplit: Split;
  valSplit: Split;
  epochs: number;
  samplesSeen: number;
  epoch: number;
  positionInEpoch: number;
  lastValidation: TrainResult['lastValidation'];
}

/** The loop proper, from wherever `train` decided to start. The caller releases model, optimizer and writer. */
async function trainFrom(state: RunState): Promise<TrainResult> {
  const { options, dataset, hooks, log, progress, runDir, checkpointsDir, model, modelOptions, optimizer, writer, data, trainSplit, valSplit, epochs } = state;
  let { samplesSeen, epoch, positionInEpoch, lastValidation } = state;
  const numClasses = dataset.classNames.length;
  const batches = new TrainBatches(trainSplit, { batchSize: data.batchSize, seed: data.seed });
  const step = createTrainStep(model, optimizer, numClasses);
  const schedule = new CheckpointSchedule(options.checkpointEvery, samplesSeen);
  const checkpoints: string[] = [];
  const startedAt = Date.now();

  const checkpoint = async (validationAccuracy?: number) => {
    const dir = await saveCheckpoint(checkpointsDir, {
      model,
      optimizer,
      meta: {
        epoch,
        samplesSeen,
        iterations: optimizer.iterations,
        model: modelOptions,
        data: { ...data, positionInEpoch },
        seed: data.seed,
        ...(validationAccuracy !== undefined ? { validationAccuracy } : {}),
        run: { run: options.run, epochs, learningRate: options.learningRate, backend: options.backend ?? null },
      },
    });
    schedule.written(samplesSeen);
    checkpoints.push(dir);
    return dir;
  };

  const validate = async () => {
    const result = await evaluate(model, valSplit.count, valSplit.labels, numClasses, data.batchSize, (start, end) =>
      toModelInput(valSplit.images.subarray(start * IMAGE_BYTES, end * IMAGE_BYTES)),
    );
    writer.scalar('validation/loss', result.loss, samplesSeen);
    writer.scalar('validation/accuracy', result.accuracy, samplesSeen);
    for (const { className, grid } of worstSampleGrids(valSplit.images, valSplit.labels, result.losses, dataset.classNames)) {
      writer.image(`worst_samples/${className}`, grid, samplesSeen);
    }
    writer.flush();
    return result;
  };

  let stoppedEarly = false;
  const extra: Record<string, string> = options.resume ? { 'resumed at': `${samplesSeen} samples` } : {};
  writer.text(options.resume ? 'run/resumed' : 'run/options', optionsMarkdown(options, epochs, modelOptions, data, extra), samplesSeen);
  if (!options.resume) {
    // The watcher's first frame: the untrained network.
    await checkpoint();
    log(`run ${runDir}: ${data.trainSamples} training samples per epoch, ${data.valSamples} validation samples, checkpoints in ${checkpointsDir}`);
  }

  const samplesPerEpoch = batches.samplesPerEpoch;
  let windowLoss = 0;
  let windowCorrect = 0;
  let windowSamples = 0;
  let windowSteps = 0;
  let imagesPerSecond = 0;

  while (epoch < epochs && !stoppedEarly) {
    let lastTime = performance.now();
    for (const batch of batches.batches(epoch, positionInEpoch)) {
      const result = await step({ images: batch.x, labels: batch.labels, size: batch.count });
      // The step's awaits resolve as microtasks, which never let the event loop run: without
      // this, a SIGINT handler would only run at the next checkpoint's file I/O.
      await new Promise<void>((resolve) => setImmediate(resolve));
      samplesSeen += batch.count;
      positionInEpoch = batch.offset + batch.count;
      windowLoss += result.loss;
      windowCorrect += result.correct;
      windowSamples += batch.count;
      windowSteps += 1;

      const now = performance.now();
      const rate = (batch.count * 1000) / Math.max(1e-3, now - lastTime);
      imagesPerSecond = imagesPerSecond === 0 ? rate : 0.8 * imagesPerSecond + 0.2 * rate;
      lastTime = now;

      if (windowSteps >= options.logEvery) {
        writer.scalar('train/loss', windowLoss / windowSteps, samplesSeen);
        writer.scalar('train/accuracy', windowCorrect / windowSamples, samplesSeen);
        writer.scalar('train/images_per_second', imagesPerSecond, samplesSeen);
        windowLoss = windowCorrect = windowSamples = windowSteps = 0;
      }
      progress.update({
        epoch,
        epochs,
        samplesInEpoch: positionInEpoch,
        epochSize: samplesPerEpoch,
        loss: result.loss,
        accuracy: result.correct / batch.count,
        imagesPerSecond,
        remainingSamples: (epochs - epoch) * samplesPerEpoch - positionInEpoch,
      });
      hooks.onStep?.({ samplesSeen, loss: result.loss, accuracy: result.correct / batch.count });

      if (hooks.signal?.aborted) {
        stoppedEarly = true;
        break;
      }
      // At the epoch's last step the epoch-end checkpoint follows, with the validation accuracy.
      if (positionInEpoch < samplesPerEpoch && schedule.due(samplesSeen, epoch)) await checkpoint();
      // The checkpoint may have taken a while; don't count it against the next step's speed.
      lastTime = performance.now();
    }
    if (stoppedEarly) break;

    // End of the epoch: validate, log the worst samples, checkpoint with the accuracy.
    const validation = await validate();
    lastValidation = { loss: validation.loss, accuracy: validation.accuracy };
    epoch += 1;
    positionInEpoch = 0;
    progress.log(
      `epoch ${epoch}/${epochs}: validation loss ${validation.loss.toFixed(4)}, accuracy ${(validation.accuracy * 100).toFixed(2)}% (${samplesSeen} samples seen)`,
    );
    if (!schedule.isWritten(samplesSeen)) await checkpoint(validation.accuracy);
    if (hooks.signal?.aborted) stoppedEarly = true;
  }

  if (!schedule.isWritten(samplesSeen)) await checkpoint();
  progress.done();
  if (stoppedEarly) log(`stopped at ${samplesSeen} samples; continue with --resume --run ${options.run}`);
  else if (checkpoints.length === 0) log(`nothing to do: run '${options.run}' already finished ${epoch} epoch(s); pass a larger --epochs with --resume to continue`);
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  log(`done in ${seconds} s: ${samplesSeen} samples seen, ${checkpoints.length} checkpoint(s) written, logs in ${runDir}`);
  return { runDir, samplesSeen, epochsCompleted: epoch, checkpoints, stoppedEarly, ...(lastValidation ? { lastValidation } : {}) };
}
