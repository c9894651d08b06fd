/**
 * What shapes a run, in one typed record: the options as given (`TrainOptions`), and the same
 * options resolved (`RunSettings`: defaults filled in, or read back from the checkpoint being
 * resumed). Everything downstream of `startRun` reads `RunSettings` only, and checkpoints
 * record it (`checkpointRecords`), so a resumed run can continue with the same settings.
 */
import { UserError } from '../errors.ts';
import { SEED_AUGMENTATION, describeAugmentation, type Cifar10 } from '../data/index.ts';
import type { CheckpointMeta } from '../model/checkpoint.ts';
import type { ModelOptions } from '../model/resnet.ts';
import { describeIntervals } from './schedule.ts';

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
  /** Adam's learning rate. Default 1e-3; when resuming, the run's own unless given. */
  learningRate?: number;
  /** Default 0. */
  seed?: number;
  /**
   * Fixed checkpoint interval in samples (undefined: dense early, sparse later; when resuming,
   * the run's own unless given).
   */
  checkpointEvery?: number;
  /** Evaluate on a stratified subset of this many test images (default: all). */
  valSamples?: number;
  /** Steps between `train/*` scalars. Default 5; when resuming, the run's own unless given. */
  logEvery?: number;
  /**
   * Continue the newest checkpoint of `<logdir>/<run>/checkpoints/`. Batch size, seed and the
   * sample counts then come from the checkpoint (given ones must match, or the data order would
   * change under the run's feet).
   */
  resume: boolean;
  /** Recorded in the run's text summary and checkpoints. */
  dataSource: string;
  backend?: string;
  /**
   * Worker threads to train on (`--workers`; default one per core, at least 16 images each).
   * Not a setting of the run: it changes neither the data order nor what a checkpoint holds.
   */
  workers?: number;
}

export const DEFAULT_BLOCKS: readonly number[] = [6, 6, 12];
export const DEFAULT_BATCH_SIZE = 256;
export const DEFAULT_SEED = 0;
export const DEFAULT_LEARNING_RATE = 1e-3;
export const DEFAULT_LOG_EVERY = 5;

/** What fixes the order of batches: the `data` part of checkpoint.json, less the position in it. */
export interface DataSettings {
  source: string;
  trainFiles: string[];
  trainSamples: number;
  maxSamples: number | null;
  valSamples: number;
  batchSize: number;
  seed: number;
  augmentation: string;
}

/** Every option of a run, resolved. */
export interface RunSettings {
  logdir: string;
  run: string;
  /** Epochs in total, counting those before a resume. */
  epochs: number;
  model: ModelOptions;
  learningRate: number;
  /** Steps between `train/*` scalars. */
  logEvery: number;
  /** Fixed checkpoint interval in samples; null: the default schedule. */
  checkpointEvery: number | null;
  backend: string | null;
  data: DataSettings;
}

/** The data settings of a fresh run. */
export function freshDataSettings(options: TrainOptions, dataset: Cifar10): DataSettings {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new UserError(`--batch-size must be a positive integer, got ${batchSize}`);
  }
  return {
    source: options.dataSource,
    trainFiles: dataset.trainFiles,
    trainSamples: Math.min(options.maxSamples ?? dataset.train.count, dataset.train.count),
    maxSamples: options.maxSamples ?? null,
    valSamples: Math.min(options.valSamples ?? dataset.test.count, dataset.test.count),
    batchSize,
    seed: options.seed ?? DEFAULT_SEED,
    augmentation: describeAugmentation(SEED_AUGMENTATION),
  };
}

/** Reads the data record of a checkpoint written by this folder, with the position in its epoch. */
export function dataRecordOf(meta: CheckpointMeta, dir: string): DataSettings & { positionInEpoch: number } {
  const data = meta.data as Partial<DataSettings & { positionInEpoch: number }>;
  const ints = ['trainSamples', 'valSamples', 'batchSize', 'seed', 'positionInEpoch'] as const;
  for (const field of ints) {
    if (!Number.isInteger(data[field])) {
      throw new UserError(
        `${dir}/checkpoint.json: data.${field} is missing; this checkpoint cannot be resumed, start a new --run`,
      );
    }
  }
  return data as DataSettings & { positionInEpoch: number };
}

/** Throws when an option given now contradicts the checkpoint being resumed. */
export function checkResumable(
  options: Omit<TrainOptions, 'dataSource'>,
  meta: CheckpointMeta,
  data: DataSettings,
  dir: string,
): void {
  const given = <T>(value: T | undefined, then: T, flag: string, show = (v: T) => String(v)) => {
    if (value === undefined || show(value) === show(then)) return;
    throw new UserError(
      `--${flag} ${show(value)} differs from ${show(then)} of the checkpoint ${dir}; ` +
        `leave it out to resume with the checkpoint's value, or start a new --run`,
    );
  };
  given(options.batchSize, data.batchSize, 'batch-size');
  given(options.seed, data.seed, 'seed');
  given(options.maxSamples, data.maxSamples ?? Infinity, 'max-samples');
  given(options.valSamples, data.valSamples, 'val-samples');
  given(options.blocks, meta.model.blocks, 'blocks', (b) => b.join(','));
}

/** The epochs a resumed run trains to: as given, else the run's own target, else one more. */
export function resumedEpochs(options: TrainOptions, meta: CheckpointMeta): number {
  if (options.epochs !== undefined) return options.epochs;
  const planned = Number(meta.run?.epochs);
  return Number.isInteger(planned) && planned > meta.epoch ? planned : meta.epoch + 1;
}

/** The options shared by fresh and resumed runs: taken as given. */
export function givenSettings(options: TrainOptions): Pick<RunSettings, 'logdir' | 'run' | 'backend'> {
  return { logdir: options.logdir, run: options.run, backend: options.backend ?? null };
}

/** The schedule and step size of a fresh run: as given, else the defaults. */
export function freshSchedule(
  options: TrainOptions,
): Pick<RunSettings, 'learningRate' | 'logEvery' | 'checkpointEvery'> {
  return {
    learningRate: options.learningRate ?? DEFAULT_LEARNING_RATE,
    logEvery: options.logEvery ?? DEFAULT_LOG_EVERY,
    checkpointEvery: options.checkpointEvery ?? null,
  };
}

/**
 * The schedule and step size of a resumed run: the run's own, from its checkpoint, unless an
 * option gives another value (each such change is listed in `changed`, for one line to the
 * user). Checkpoints written before these were recorded fall back to the options or defaults.
 */
export function resumedSchedule(
  options: TrainOptions,
  meta: CheckpointMeta,
): { schedule: Pick<RunSettings, 'learningRate' | 'logEvery' | 'checkpointEvery'>; changed: string[] } {
  const recorded = meta.run ?? {};
  const fallback = freshSchedule(options);
  const changed: string[] = [];
  const pick = <T extends number | null>(
    flag: string,
    given: T | undefined,
    then: unknown,
    isValid: (value: unknown) => value is T,
    fresh: T,
    show = (value: T) => String(value),
  ): T => {
    if (!isValid(then)) return fresh; // not recorded: as a fresh run
    if (given === undefined) return then;
    if (given !== then) changed.push(`${flag} ${show(given)} (the run had ${show(then)})`);
    return given;
  };
  const positive = (value: unknown): value is number => typeof value === 'number' && value > 0;
  const intervalOrNull = (value: unknown): value is number | null =>
    value === null || (Number.isInteger(value) && (value as number) > 0);
  const interval = (value: number | null) => (value === null ? 'the default schedule' : String(value));
  return {
    schedule: {
      learningRate: pick('--lr', options.learningRate, recorded.learningRate, positive, fallback.learningRate),
      logEvery: pick('--log-every', options.logEvery, recorded.logEvery, positive, fallback.logEvery),
      checkpointEvery: pick(
        '--checkpoint-every',
        options.checkpointEvery,
        recorded.checkpointEvery,
        intervalOrNull,
        fallback.checkpointEvery,
        interval,
      ),
    },
    changed,
  };
}

/** The `run` part of checkpoint.json: the settings that are not the model's or the data's. */
export function runRecord(settings: RunSettings): Record<string, unknown> {
  return {
    run: settings.run,
    epochs: settings.epochs,
    learningRate: settings.learningRate,
    backend: settings.backend,
    logEvery: settings.logEvery,
    checkpointEvery: settings.checkpointEvery,
  };
}

/** The run's options as a Markdown table, for TensorBoard's Text dashboard. */
export function settingsMarkdown(settings: RunSettings, extra: Record<string, string> = {}): string {
  const { data, model } = settings;
  const rows: [string, string][] = [
    ['data', data.source],
    ['training files', data.trainFiles.join(', ')],
    ['training samples per epoch', String(data.trainSamples)],
    ['validation samples', String(data.valSamples)],
    ['epochs', String(settings.epochs)],
    ['batch size', String(data.batchSize)],
    ['learning rate (Adam)', String(settings.learningRate)],
    ['seed', String(data.seed)],
    ['augmentation', data.augmentation],
    ['blocks', model.blocks.join(',')],
    ['widths', model.widths.join(',')],
    ['stem channels', String(model.stemChannels)],
    ['checkpoint every (samples)', describeIntervals(settings.checkpointEvery ?? undefined)],
    ['backend', settings.backend ?? 'unknown'],
    ...Object.entries(extra),
  ];
  const escape = (text: string) => text.replaceAll('|', '\\|');
  return ['| option | value |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${escape(v)} |`)].join('\n');
}
