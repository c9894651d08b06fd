/**
 * The checkpoint format: one directory per save, `<checkpoints>/step-<9-digit samples seen>/`,
 * holding
 *
 *   model.json + weights.bin        tfjs LayersModel artifacts (topology, weights manifest, float32)
 *   optimizer.json + optimizer.bin  Adam state: hyper-parameters, iterations, first/second moments
 *   checkpoint.json                 written last: step, epoch, samples seen, model and data options,
 *                                   the SHA-256 of weights.bin and optimizer.bin
 *
 * A checkpoint is assembled in a hidden sibling directory (`.step-…tmp`) and renamed into place
 * when complete, so a directory named `step-\d{9}` with a `checkpoint.json` is complete.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError, describeFsError } from '../../errors.ts';
import { pathExists } from '../../util/exists.ts';
import type { ModelOptions } from '../resnet.ts';

export const CHECKPOINT_FORMAT = 1;
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const OPTIMIZER_JSON = 'optimizer.json';
export const OPTIMIZER_BIN = 'optimizer.bin';
export const CHECKPOINT_JSON = 'checkpoint.json';
const STEP_DIR_PATTERN = /^step-(\d{9})$/;
const LARGEST_STEP = 999_999_999;

/** The contents of `checkpoint.json`. `step` is the TensorBoard step: training samples seen. */
export interface CheckpointMeta {
  format: number;
  step: number;
  epoch: number;
  samplesSeen: number;
  /** Optimizer updates so far (batches). */
  iterations: number;
  time: string;
  model: ModelOptions;
  /** How the data was read and ordered, enough to resume in the same order. */
  data: Record<string, unknown>;
  seed: number;
  validationAccuracy?: number;
  /** Free-form: the options the run was started with. */
  run?: Record<string, unknown>;
  /**
   * `sha256:<hex>` of each weight file (`weights.bin`, `optimizer.bin`) as written, checked on
   * every load. Absent in checkpoints written before they were recorded.
   */
  checksums?: Record<string, string>;
}

/** Adam's state as plain arrays, in the model's trainable-weight order. */
export interface OptimizerState {
  kind: 'adam';
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  iterations: number;
  /** One entry per trainable weight (empty before the first update). */
  moments: { name: string; shape: number[]; m: Float32Array; v: Float32Array }[];
}

export interface WeightArray {
  shape: number[];
  values: Float32Array;
}

/**
 * `000012345`: a step in nine digits, so names sort by step. The checkpoint directories and
 * every per-step file of the watcher use it.
 */
export function stepLabel(step: number): string {
  return String(step).padStart(9, '0');
}

/** `step-000012345`. */
export function checkpointDirName(samplesSeen: number): string {
  if (!Number.isInteger(samplesSeen) || samplesSeen < 0 || samplesSeen > LARGEST_STEP) {
    throw new UserError(`checkpoint step must be an integer in 0…999,999,999, got ${samplesSeen}`);
  }
  return `step-${stepLabel(samplesSeen)}`;
}

/** The step of a checkpoint directory's name (`step-000012345` → 12345), or undefined for any other name. */
export function parseCheckpointDirName(name: string): number | undefined {
  const match = STEP_DIR_PATTERN.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** A checkpoint directory and its step. */
export interface CheckpointEntry {
  step: number;
  dir: string;
}

/** Complete checkpoints under `checkpointsDir`, oldest first. A missing directory has none. */
export async function listCheckpoints(checkpointsDir: string): Promise<CheckpointEntry[]> {
  let names: string[];
  try {
    names = await readdir(checkpointsDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UserError(describeFsError(error, 'list checkpoints in', checkpointsDir));
  }
  const found: CheckpointEntry[] = [];
  for (const name of names) {
    const step = parseCheckpointDirName(name);
    if (step === undefined) continue;
    const dir = join(checkpointsDir, name);
    if (await pathExists(join(dir, CHECKPOINT_JSON))) found.push({ step, dir });
  }
  return found.sort((a, b) => a.step - b.step);
}

/** The newest complete checkpoint, or undefined when there is none. */
export async function latestCheckpoint(checkpointsDir: string): Promise<CheckpointEntry | undefined> {
  const all = await listCheckpoints(checkpointsDir);
  return all[all.length - 1];
}
