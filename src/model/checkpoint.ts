/**
 * Checkpoints: one directory per save, `<checkpoints>/step-<9-digit samples seen>/`, holding
 *
 *   model.json + weights.bin        tfjs LayersModel artifacts (topology, weights manifest, float32)
 *   optimizer.json + optimizer.bin  Adam state: hyper-parameters, iterations, first/second moments
 *   checkpoint.json                 written last: step, epoch, samples seen, model and data options
 *
 * A checkpoint is assembled in a hidden sibling directory (`.step-…tmp`) and renamed into place
 * when complete, so a watcher that lists `step-\d{9}` directories never sees a partial one.
 *
 * Reading the metadata and the raw weights (`readCheckpointMeta`, `readCheckpointWeights`) needs
 * no tfjs: the ONNX exporter and the watcher use them without a backend. Everything that builds
 * tensors loads tfjs on demand.
 */
import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs-core';
import type * as tflTypes from '@tensorflow/tfjs-layers';
import { UserError, describeFsError } from '../errors.ts';
import { makeDirectory } from '../util/directory.ts';
import { temporarySibling, writeFileSynced } from '../util/atomic.ts';
import type { ModelOptions } from './resnet.ts';

export const CHECKPOINT_FORMAT = 1;
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const OPTIMIZER_JSON = 'optimizer.json';
export const OPTIMIZER_BIN = 'optimizer.bin';
export const CHECKPOINT_JSON = 'checkpoint.json';
const STEP_DIR_PATTERN = /^step-(\d{9})$/;

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

/** `step-000012345`. */
export function checkpointDirName(samplesSeen: number): string {
  if (!Number.isInteger(samplesSeen) || samplesSeen < 0 || samplesSeen > 999_999_999) {
    throw new UserError(`checkpoint step must be an integer in 0…999,999,999, got ${samplesSeen}`);
  }
  return `step-${String(samplesSeen).padStart(9, '0')}`;
}

/** Complete checkpoints under `checkpointsDir`, oldest first. A missing directory has none. */
export async function listCheckpoints(checkpointsDir: string): Promise<{ step: number; dir: string }[]> {
  let names: string[];
  try {
    names = await readdir(checkpointsDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UserError(describeFsError(error, 'list checkpoints in', checkpointsDir));
  }
  const found: { step: number; dir: string }[] = [];
  for (const name of names) {
    const match = STEP_DIR_PATTERN.exec(name);
    if (!match) continue;
    const dir = join(checkpointsDir, name);
    const complete = await stat(join(dir, CHECKPOINT_JSON)).then(() => true, () => false);
    if (complete) found.push({ step: Number(match[1]), dir });
  }
  return found.sort((a, b) => a.step - b.step);
}

/** The newest complete checkpoint, or undefined when there is none. */
export async function latestCheckpoint(checkpointsDir: string): Promise<{ step: number; dir: string } | undefined> {
  const all = await listCheckpoints(checkpointsDir);
  return all[all.length - 1];
}

// ---------------------------------------------------------------------------------------------
// Reading without tfjs

/** Reads and parses a JSON file; `whenMissing` replaces the message when it (or its directory) is not there. */
async function readJson(path: string, whenMissing?: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (whenMissing !== undefined && (code === 'ENOENT' || code === 'ENOTDIR')) throw new UserError(whenMissing);
    throw new UserError(describeFsError(error, 'read', path));
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UserError(`${path} is not valid JSON (${(error as Error).message}); the checkpoint is damaged, use another one`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIntList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => Number.isInteger(v) && v >= 0);
}

/** Reads and checks `checkpoint.json` of a checkpoint directory. */
export async function readCheckpointMeta(dir: string): Promise<CheckpointMeta> {
  const path = join(dir, CHECKPOINT_JSON);
  const raw = await readJson(path, `cannot read ${path}: ${dir} is not a checkpoint directory (a step-NNNNNNNNN directory written by 'train'); check the path`);
  const bad = (field: string, want: string) =>
    new UserError(`${path}: field '${field}' must be ${want}; the checkpoint is damaged or from another program`);
  if (!isRecord(raw)) throw bad('(top level)', 'an object');
  if (raw.format !== CHECKPOINT_FORMAT) throw bad('format', `${CHECKPOINT_FORMAT} (this program reads format ${CHECKPOINT_FORMAT} only)`);
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
  if (raw.validationAccuracy !== undefined && typeof raw.validationAccuracy !== 'number') throw bad('validationAccuracy', 'a number');
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

interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

/** Reads a weights manifest's files and cuts them into float32 arrays, one per tensor. */
async function readManifestWeights(dir: string, manifestOwner: string, manifest: unknown): Promise<Map<string, WeightArray>> {
  if (!Array.isArray(manifest)) throw new UserError(`${manifestOwner}: 'weightsManifest' is missing; the checkpoint is damaged, use another one`);
  const weights = new Map<string, WeightArray>();
  for (const group of manifest) {
    if (!isRecord(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new UserError(`${manifestOwner}: a weightsManifest group lacks 'paths' or 'weights'; the checkpoint is damaged, use another one`);
    }
    const parts: Buffer[] = [];
    for (const relative of group.paths) {
      const path = join(dir, String(relative));
      try {
        parts.push(await readFile(path));
      } catch (error) {
        throw new UserError(describeFsError(error, 'read', path));
      }
    }
    const bytes = Buffer.concat(parts);
    const file = group.paths.map(String).join('+');
    let offset = 0;
    for (const entry of group.weights as ManifestWeight[]) {
      if (!isRecord(entry) || typeof entry.name !== 'string' || !isIntList(entry.shape)) {
        throw new UserError(`${manifestOwner}: a weight entry lacks a name or shape; the checkpoint is damaged, use another one`);
      }
      if (entry.dtype !== 'float32' || entry.quantization !== undefined) {
        throw new UserError(`${manifestOwner}: weight '${entry.name}' is ${entry.quantization ? 'quantized ' : ''}${entry.dtype}; only float32 checkpoints are supported`);
      }
      const count = entry.shape.reduce((a, b) => a * b, 1);
      const end = offset + count * 4;
      if (end > bytes.length) {
        throw new UserError(
          `${join(dir, file)}: weight '${entry.name}' ${JSON.stringify(entry.shape)} needs bytes ${offset}…${end} but the file has ${bytes.length}; the checkpoint is truncated, use another one`,
        );
      }
      // Copy: the slice may not be 4-byte aligned inside the file buffer.
      const values = new Float32Array(count);
      new Uint8Array(values.buffer).set(bytes.subarray(offset, end));
      weights.set(entry.name, { shape: [...entry.shape], values });
      offset = end;
    }
    if (offset !== bytes.length) {
      throw new UserError(`${join(dir, file)}: ${bytes.length - offset} bytes after the last weight at byte ${offset}; the checkpoint is damaged, use another one`);
    }
  }
  return weights;
}

/**
 * The model's weights as plain arrays, `<layer>/<weight>` → `{ shape, values }`, read from
 * `model.json`'s manifest and `weights.bin` without tfjs. When `checkpoint.json` is there, every
 * weight its model options call for must be present with the right shape.
 */
export async function readCheckpointWeights(dir: string): Promise<Map<string, WeightArray>> {
  const modelPath = join(dir, MODEL_JSON);
  const modelJson = await readJson(modelPath);
  if (!isRecord(modelJson)) throw new UserError(`${modelPath}: not a tfjs model.json; the checkpoint is damaged, use another one`);
  const weights = await readManifestWeights(dir, modelPath, modelJson.weightsManifest);
  const hasMeta = await stat(join(dir, CHECKPOINT_JSON)).then(() => true, () => false);
  if (hasMeta) {
    const meta = await readCheckpointMeta(dir);
    for (const [name, shape] of expectedWeightShapes(meta.model)) {
      const found = weights.get(name);
      if (!found) throw new UserError(`${modelPath}: weight '${name}' is missing; the checkpoint does not match its checkpoint.json, use another one`);
      if (found.shape.length !== shape.length || found.shape.some((d, i) => d !== shape[i])) {
        throw new UserError(`${modelPath}: weight '${name}' has shape ${JSON.stringify(found.shape)}, expected ${JSON.stringify(shape)}; the checkpoint does not match its checkpoint.json`);
      }
    }
  }
  return weights;
}

/** Reads `optimizer.json` + `optimizer.bin` without tfjs. */
export async function readOptimizerState(dir: string): Promise<OptimizerState> {
  const path = join(dir, OPTIMIZER_JSON);
  const raw = await readJson(path);
  if (!isRecord(raw) || raw.kind !== 'adam') throw new UserError(`${path}: not an Adam optimizer state; the checkpoint is damaged or from another program`);
  for (const field of ['learningRate', 'beta1', 'beta2', 'epsilon'] as const) {
    if (typeof raw[field] !== 'number') throw new UserError(`${path}: field '${field}' must be a number; the checkpoint is damaged`);
  }
  if (!Number.isInteger(raw.iterations)) throw new UserError(`${path}: field 'iterations' must be an integer; the checkpoint is damaged`);
  const arrays = await readManifestWeights(dir, path, raw.weightsManifest);
  const names = Array.isArray(raw.variables) ? raw.variables.map(String) : [];
  const moments = names.map((name) => {
    const m = arrays.get(`${name}/m`);
    const v = arrays.get(`${name}/v`);
    if (!m || !v) throw new UserError(`${path}: the moments of '${name}' are missing; the checkpoint is damaged, use another one`);
    return { name, shape: m.shape, m: m.values, v: v.values };
  });
  return {
    kind: 'adam',
    learningRate: raw.learningRate as number,
    beta1: raw.beta1 as number,
    beta2: raw.beta2 as number,
    epsilon: raw.epsilon as number,
    iterations: raw.iterations as number,
    moments,
  };
}

// ---------------------------------------------------------------------------------------------
// Writing

function concatFloat32(arrays: Float32Array[]): Uint8Array {
  const total = arrays.reduce((sum, a) => sum + a.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const a of arrays) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offset);
    offset += a.byteLength;
  }
  return out;
}

function weightDataBytes(data: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  const buffers = Array.isArray(data) ? data : [data];
  const total = buffers.reduce((sum, b) => sum + b.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), offset);
    offset += b.byteLength;
  }
  return out;
}

/**
 * A tfjs IOHandler that saves to and loads from `dir/model.json` + `dir/weights.bin`
 * (the layout `tf.loadLayersModel('file://…')` of tfjs-node also reads).
 */
export function fileModelHandler(dir: string): tfTypes.io.IOHandler {
  return {
    async save(artifacts) {
      if (artifacts.modelTopology instanceof ArrayBuffer) throw new Error('binary model topologies are not supported');
      const weightSpecs = artifacts.weightSpecs ?? [];
      const modelJson = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: weightSpecs }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      const weights = artifacts.weightData ? weightDataBytes(artifacts.weightData) : new Uint8Array(0);
      await writeFileSynced(join(dir, WEIGHTS_BIN), weights);
      await writeFileSynced(join(dir, MODEL_JSON), JSON.stringify(modelJson));
      const topologyBytes = Buffer.byteLength(JSON.stringify(artifacts.modelTopology ?? null));
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: topologyBytes,
          weightSpecsBytes: Buffer.byteLength(JSON.stringify(weightSpecs)),
          weightDataBytes: weights.byteLength,
        },
      };
    },
    async load() {
      const modelPath = join(dir, MODEL_JSON);
      const modelJson = await readJson(modelPath);
      if (!isRecord(modelJson) || !isRecord(modelJson.modelTopology)) {
        throw new UserError(`${modelPath}: no 'modelTopology'; not a tfjs layers model, use another checkpoint`);
      }
      const weights = await readManifestWeights(dir, modelPath, modelJson.weightsManifest);
      const weightSpecs = (modelJson.weightsManifest as { weights: tfTypes.io.WeightsManifestEntry[] }[]).flatMap((g) => g.weights);
      const weightData = concatFloat32(weightSpecs.map((spec) => weights.get(spec.name)!.values));
      return {
        modelTopology: modelJson.modelTopology,
        format: typeof modelJson.format === 'string' ? modelJson.format : undefined,
        generatedBy: typeof modelJson.generatedBy === 'string' ? modelJson.generatedBy : undefined,
        weightSpecs,
        weightData: weightData.buffer as ArrayBuffer,
      };
    },
  };
}

/**
 * Reads Adam's moments off a live optimizer. The optimizer keeps them in the order the
 * gradients were applied, which the training step makes the model's trainable-weight order,
 * so index i belongs to `model.trainableWeights[i]` (the optimizer's own names carry tfjs's
 * de-duplication suffixes and are no use across processes).
 */
export async function captureOptimizerState(optimizer: tfTypes.AdamOptimizer, model: tflTypes.LayersModel): Promise<OptimizerState> {
  const named = await optimizer.getWeights();
  const [iter, ...rest] = named;
  // getWeights makes a fresh scalar for the iteration count; it is ours to dispose.
  iter?.tensor.dispose();
  const trainable = model.trainableWeights;
  const count = rest.length / 2;
  if (count !== 0 && count !== trainable.length) {
    throw new Error(`optimizer holds moments for ${count} variables, the model has ${trainable.length} trainable weights`);
  }
  const moments: OptimizerState['moments'] = [];
  for (let i = 0; i < count; i++) {
    const m = rest[i]!.tensor;
    const v = rest[count + i]!.tensor;
    moments.push({
      name: trainable[i]!.originalName,
      shape: [...m.shape],
      m: (await m.data()) as Float32Array,
      v: (await v.data()) as Float32Array,
    });
  }
  const config = optimizer.getConfig();
  return {
    kind: 'adam',
    learningRate: Number(config.learningRate),
    beta1: Number(config.beta1),
    beta2: Number(config.beta2),
    epsilon: Number(config.epsilon),
    iterations: optimizer.iterations,
    moments,
  };
}

/**
 * A fresh Adam optimizer for `model`, continuing from `state` when given: the moments are
 * matched to the model's trainable weights by name and put in the order the training step
 * applies gradients.
 */
export async function createAdam(
  model: tflTypes.LayersModel,
  state: OptimizerState | undefined,
  hyper: { learningRate: number; beta1?: number; beta2?: number; epsilon?: number },
): Promise<tfTypes.AdamOptimizer> {
  const tf = await import('@tensorflow/tfjs-core');
  // Fused on webgpu (our kernels), tfjs's own AdamOptimizer elsewhere; the same state layout.
  const { createAdamOptimizer } = await import('../backend/optimizers/fused_adam.ts');
  const { learningRate, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7 } = hyper;
  const optimizer = createAdamOptimizer(learningRate, beta1, beta2, epsilon);
  if (!state || (state.iterations === 0 && state.moments.length === 0)) return optimizer;
  const byName = new Map(state.moments.map((entry) => [entry.name, entry]));
  const trainable = model.trainableWeights;
  if (state.moments.length !== trainable.length) {
    throw new UserError(`optimizer state holds moments for ${state.moments.length} weights but the model has ${trainable.length}; the checkpoint does not belong to this model`);
  }
  const ordered = trainable.map((w) => {
    const entry = byName.get(w.originalName);
    if (!entry) throw new UserError(`optimizer state has no moments for weight '${w.originalName}'; the checkpoint does not belong to this model`);
    if (entry.shape.join(',') !== w.shape.join(',')) {
      throw new UserError(`optimizer moments of '${w.originalName}' have shape [${entry.shape}], the weight [${w.shape}]; the checkpoint does not belong to this model`);
    }
    return entry;
  });
  const iter = tf.scalar(state.iterations, 'int32');
  const firsts = ordered.map((e) => ({ name: `${e.name}/m`, tensor: tf.tensor(e.m, e.shape) }));
  const seconds = ordered.map((e) => ({ name: `${e.name}/v`, tensor: tf.tensor(e.v, e.shape) }));
  await optimizer.setWeights([{ name: 'iter', tensor: iter }, ...firsts, ...seconds]);
  // setWeights turned each tensor into a variable sharing its data; drop our references.
  tf.dispose([iter, ...firsts.map((f) => f.tensor), ...seconds.map((s) => s.tensor)]);
  return optimizer;
}

async function writeOptimizerState(dir: string, state: OptimizerState): Promise<void> {
  const weights = state.moments.flatMap((entry) => [
    { name: `${entry.name}/m`, shape: entry.shape, dtype: 'float32' },
    { name: `${entry.name}/v`, shape: entry.shape, dtype: 'float32' },
  ]);
  const bytes = concatFloat32(state.moments.flatMap((entry) => [entry.m, entry.v]));
  const json = {
    kind: state.kind,
    learningRate: state.learningRate,
    beta1: state.beta1,
    beta2: state.beta2,
    epsilon: state.epsilon,
    iterations: state.iterations,
    variables: state.moments.map((entry) => entry.name),
    weightsManifest: [{ paths: [OPTIMIZER_BIN], weights }],
  };
  await writeFileSynced(join(dir, OPTIMIZER_BIN), bytes);
  await writeFileSynced(join(dir, OPTIMIZER_JSON), JSON.stringify(json));
}

export interface SaveCheckpointInput {
  model: tflTypes.LayersModel;
  optimizer: tfTypes.AdamOptimizer;
  /** Everything of checkpoint.json except `format` and `step` (= samplesSeen); `time` defaults to now. */
  meta: Omit<CheckpointMeta, 'format' | 'step' | 'time'> & { time?: string };
}

/**
 * Writes a complete checkpoint to `<checkpointsDir>/step-<samplesSeen>/` and returns that path.
 * The files go to a hidden temporary directory first, `checkpoint.json` last, then one rename
 * publishes the directory. On any failure the temporary directory is removed and nothing
 * visible changes. An existing checkpoint of the same step is never replaced.
 */
export async function saveCheckpoint(checkpointsDir: string, input: SaveCheckpointInput): Promise<string> {
  const name = checkpointDirName(input.meta.samplesSeen);
  const finalDir = join(checkpointsDir, name);
  await makeDirectory(checkpointsDir, 'create the checkpoint directory');
  if (await stat(finalDir).then(() => true, () => false)) {
    throw new UserError(`checkpoint ${finalDir} already exists; choose another --run or --logdir, or --resume it`);
  }
  const temporary = temporarySibling(finalDir);
  try {
    await mkdir(temporary);
    await input.model.save(fileModelHandler(temporary));
    await writeOptimizerState(temporary, await captureOptimizerState(input.optimizer, input.model));
    const meta: CheckpointMeta = {
      format: CHECKPOINT_FORMAT,
      step: input.meta.samplesSeen,
      ...input.meta,
      time: input.meta.time ?? new Date().toISOString(),
    };
    await writeFileSynced(join(temporary, CHECKPOINT_JSON), JSON.stringify(meta, null, 2) + '\n');
    await rename(temporary, finalDir);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true }).catch(() => undefined);
    if (error instanceof UserError) throw error;
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (typeof code === 'string') throw new UserError(describeFsError(error, 'write checkpoint', finalDir));
    throw error;
  }
  return finalDir;
}

export interface LoadedCheckpoint {
  model: tflTypes.LayersModel;
  meta: CheckpointMeta;
  optimizerState: OptimizerState;
}

/** Loads a checkpoint directory: the tfjs model (weights in place), its metadata and Adam state. */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const meta = await readCheckpointMeta(dir);
  const optimizerState = await readOptimizerState(dir);
  const model = await loadCheckpointModel(dir);
  return { model, meta, optimizerState };
}

/** The checkpoint's tfjs LayersModel alone (weights in place, no optimizer state). */
export async function loadCheckpointModel(dir: string): Promise<tflTypes.LayersModel> {
  const tfl = await import('@tensorflow/tfjs-layers');
  try {
    return await tfl.loadLayersModel(fileModelHandler(dir));
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`cannot load the model of checkpoint ${dir}: ${(error as Error).message}; use another checkpoint`);
  }
}

