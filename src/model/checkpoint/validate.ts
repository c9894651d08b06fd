/**
 * Checking what a checkpoint holds, without tfjs: `checkpoint.json` field by field, and the
 * weights against the shapes the model options call for. Every failure is one `UserError` line
 * naming the file and what to do.
 */
import { basename, dirname, join } from 'node:path';
import { UserError } from '../../errors.ts';
import { UserFileError } from '../../util/user-file.ts';
import { MAX_CHECKPOINT_JSON_BYTES, readCheckpointFile } from './files.ts';
import type { ModelOptions } from '../resnet.ts';
import { isChecksum } from './checksums.ts';
import { CHECKPOINT_FORMAT, CHECKPOINT_JSON, type CheckpointMeta, type WeightArray } from './format.ts';

/**
 * Reads and parses a JSON file of a checkpoint (with the guards of `readCheckpointFile`);
 * `whenMissing` replaces the message when it (or its directory) is not there.
 */
export async function readJson(path: string, whenMissing?: string): Promise<unknown> {
  let text: string;
  try {
    text = (await readCheckpointFile(dirname(path), basename(path), MAX_CHECKPOINT_JSON_BYTES)).toString('utf8');
  } catch (error) {
    const code = (error as UserFileError).code;
    if (whenMissing !== undefined && error instanceof UserFileError && (code === 'ENOENT' || code === 'ENOTDIR'))
      throw new UserError(whenMissing);
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UserError(
      `${path} is not valid JSON (${(error as Error).message}); the checkpoint is damaged, use another one`,
    );
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isIntList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => Number.isInteger(v) && v >= 0);
}

/** Reads and checks `checkpoint.json` of a checkpoint directory. */
export async function readCheckpointMeta(dir: string): Promise<CheckpointMeta> {
  const path = join(dir, CHECKPOINT_JSON);
  const raw = await readJson(
    path,
    `cannot read ${path}: ${dir} is not a checkpoint directory (a step-NNNNNNNNN directory written by 'train'); ` +
      `check the path`,
  );
  const bad = (field: string, want: string) =>
    new UserError(`${path}: field '${field}' must be ${want}; the checkpoint is damaged or from another program`);
  if (!isRecord(raw)) throw bad('(top level)', 'an object');
  if (raw.format !== CHECKPOINT_FORMAT)
    throw bad('format', `${CHECKPOINT_FORMAT} (this program reads format ${CHECKPOINT_FORMAT} only)`);
  for (const field of ['step', 'epoch', 'samplesSeen', 'seed'] as const) {
    if (!Number.isInteger(raw[field])) throw bad(field, 'an integer');
  }
  // Older writers (none yet) may lack iterations; default keeps the reader lenient.
  const iterations = raw.iterations === undefined ? 0 : raw.iterations;
  if (!Number.isInteger(iterations)) throw bad('iterations', 'an integer');
  if (typeof raw.time !== 'string') throw bad('time', 'an ISO date string');
  const model = raw.model;
  if (!isRecord(model)) throw bad('model', 'an object');
  if (!isIntList(model.blocks) || !isIntList(model.widths) || model.blocks.length !== model.widths.length) {
    throw bad('model.blocks/model.widths', 'integer lists of equal length');
  }
  for (const field of ['stemChannels', 'embeddingSize', 'numClasses'] as const) {
    if (!Number.isInteger(model[field])) throw bad(`model.${field}`, 'an integer');
  }
  if (model.bnEpsilon !== undefined && typeof model.bnEpsilon !== 'number') throw bad('model.bnEpsilon', 'a number');
  if (!isRecord(raw.data)) throw bad('data', 'an object');
  if (raw.validationAccuracy !== undefined && typeof raw.validationAccuracy !== 'number')
    throw bad('validationAccuracy', 'a number');
  if (raw.checksums !== undefined && !(isRecord(raw.checksums) && Object.values(raw.checksums).every(isChecksum))) {
    throw bad('checksums', "an object of 'sha256:<64 hex digits>' strings");
  }
  return { ...(raw as unknown as CheckpointMeta), iterations: iterations as number };
}

/**
 * Every weight a model with these options has, `<layer>/<weight>` → shape, in layer order.
 * Pure arithmetic on the options: the contract of docs/interfaces.md in code.
 */
export function expectedWeightShapes(options: ModelOptions): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const batchNorm = (layer: string, channels: number) => {
    for (const w of ['gamma', 'beta', 'moving_mean', 'moving_variance']) shapes.set(`${layer}/${w}`, [channels]);
  };
  shapes.set('stem_conv/kernel', [7, 7, 3, options.stemChannels]);
  batchNorm('stem_bn', options.stemChannels);
  let channels = options.stemChannels;
  options.blocks.forEach((count, stageIndex) => {
    const width = options.widths[stageIndex]!;
    for (let b = 0; b < count; b++) {
      const name = `s${stageIndex + 1}b${b}`;
      const stride = b === 0 && stageIndex > 0 ? 2 : 1;
      shapes.set(`${name}_conv1/kernel`, [3, 3, channels, width]);
      batchNorm(`${name}_bn1`, width);
      shapes.set(`${name}_conv2/kernel`, [3, 3, width, width]);
      batchNorm(`${name}_bn2`, width);
      if (stride !== 1 || channels !== width) shapes.set(`${name}_shortcut/kernel`, [1, 1, channels, width]);
      channels = width;
    }
  });
  shapes.set('logits/kernel', [options.embeddingSize, options.numClasses]);
  shapes.set('logits/bias', [options.numClasses]);
  return shapes;
}

/** Throws unless `weights` holds every weight of `model` with its shape. `owner` names the file in messages. */
export function checkWeightShapes(weights: Map<string, WeightArray>, model: ModelOptions, owner: string): void {
  for (const [name, shape] of expectedWeightShapes(model)) {
    const found = weights.get(name);
    if (!found) {
      throw new UserError(
        `${owner}: weight '${name}' is missing; the checkpoint does not match its checkpoint.json, use another one`,
      );
    }
    if (found.shape.length !== shape.length || found.shape.some((d, i) => d !== shape[i])) {
      throw new UserError(
        `${owner}: weight '${name}' has shape ${JSON.stringify(found.shape)}, expected ${JSON.stringify(shape)}; ` +
          `the checkpoint does not match its checkpoint.json`,
      );
    }
  }
}
