/**
 * Where a run starts: a fresh network at step 0, or the newest checkpoint of the run
 * (`--resume`), with the settings resolved either way.
 */
import { join } from 'node:path';
import { getBackend } from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../errors.ts';
import type { Cifar10 } from '../data/index.ts';
import { buildResNet, resolveModelOptions } from '../model/resnet.ts';
import {
  latestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  readCheckpointMeta,
  type OptimizerState,
} from '../model/checkpoint.ts';
import {
  DEFAULT_BLOCKS,
  checkResumable,
  dataRecordOf,
  freshDataSettings,
  freshSchedule,
  givenSettings,
  resumedEpochs,
  resumedSchedule,
  type RunSettings,
  type TrainOptions,
} from './settings.ts';
import type { RunPosition } from './step-loop.ts';
import { checkpointsDir } from '../layout.ts';
import { checkModelFits } from './memory.ts';

export interface RunStart {
  settings: RunSettings;
  /** The caller disposes it. */
  model: tfl.LayersModel;
  /** Adam's state when resuming. */
  optimizerState?: OptimizerState;
  position: RunPosition;
  /** The checkpoint resumed from, if any. */
  resumedFrom?: string;
  /** The validation accuracy recorded in the checkpoint resumed from (its loss is not kept). */
  lastValidation?: { loss: number; accuracy: number };
  /** Options given now that change the resumed run's own settings, e.g. "--log-every 10 (the run had 5)". */
  changedOnResume?: string[];
}

/** The checkpoints directory of a run. */
export function checkpointsDirOf(settings: Pick<RunSettings, 'logdir' | 'run'>): string {
  return checkpointsDir(join(settings.logdir, settings.run));
}

/**
 * The checks of `startRun` that need no tfjs, so the CLI can answer a mistake before it probes
 * the backends: a fresh run must not have checkpoints; a resumed one must have one whose data
 * record the options agree with.
 */
export async function checkRunStart(options: Omit<TrainOptions, 'dataSource'>): Promise<void> {
  const checkpointsDir = checkpointsDirOf(options);
  if (!options.resume) {
    const existing = await listCheckpoints(checkpointsDir);
    if (existing.length > 0) {
      throw new UserError(
        `run '${options.run}' in ${options.logdir} already has ${existing.length} checkpoint(s); ` +
          `pass --resume to continue it, or choose another --run`,
      );
    }
    return;
  }
  const latest = await latestCheckpoint(checkpointsDir);
  if (!latest) {
    throw new UserError(
      `--resume: no complete checkpoint in ${checkpointsDir}; check --logdir and --run, or start without --resume`,
    );
  }
  const meta = await readCheckpointMeta(latest.dir);
  const { positionInEpoch: _, ...data } = dataRecordOf(meta, latest.dir);
  checkResumable(options, meta, data, latest.dir);
}

/** A fresh run at step 0, or the newest checkpoint when `options.resume`. */
export async function startRun(options: TrainOptions, dataset: Cifar10): Promise<RunStart> {
  await checkRunStart(options);
  return options.resume ? resumeRun(options) : startFresh(options, dataset);
}

async function startFresh(options: TrainOptions, dataset: Cifar10): Promise<RunStart> {
  const model = resolveModelOptions({
    blocks: options.blocks ?? [...DEFAULT_BLOCKS],
    widths: options.widths,
    stemChannels: options.stemChannels,
    numClasses: dataset.classNames.length,
  });
  checkModelFits(model, getBackend());
  const data = freshDataSettings(options, dataset);
  const settings: RunSettings = {
    ...givenSettings(options),
    ...freshSchedule(options),
    epochs: options.epochs ?? 1,
    model,
    data,
  };
  return {
    settings,
    model: buildResNet({ ...model, seed: data.seed }),
    position: { epoch: 0, positionInEpoch: 0, samplesSeen: 0 },
  };
}

async function resumeRun(options: TrainOptions): Promise<RunStart> {
  const checkpointsDir = checkpointsDirOf(options);
  const latest = await latestCheckpoint(checkpointsDir);
  if (!latest)
    throw new UserError(`--resume: no complete checkpoint in ${checkpointsDir}; it went away while starting`);
  const loaded = await loadCheckpoint(latest.dir);
  const { meta } = loaded;
  try {
    const { positionInEpoch, ...data } = dataRecordOf(meta, latest.dir);
    checkResumable(options, meta, data, latest.dir);
    const { schedule, changed } = resumedSchedule(options, meta);
    const settings: RunSettings = {
      ...givenSettings(options),
      ...schedule,
      epochs: resumedEpochs(options, meta),
      model: meta.model,
      data,
    };
    return {
      settings,
      changedOnResume: changed,
      model: loaded.model,
      optimizerState: loaded.optimizerState,
      position: { epoch: meta.epoch, positionInEpoch, samplesSeen: meta.samplesSeen },
      resumedFrom: latest.dir,
      ...(meta.validationAccuracy !== undefined
        ? { lastValidation: { loss: NaN, accuracy: meta.validationAccuracy } }
        : {}),
    };
  } catch (error) {
    loaded.model.dispose();
    throw error;
  }
}
