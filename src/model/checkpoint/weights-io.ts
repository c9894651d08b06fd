/**
 * Weights on disk, without tfjs: the tfjs weights-manifest layout (`model.json` + `weights.bin`,
 * `optimizer.json` + `optimizer.bin`) read into and written from plain float32 arrays, and the
 * tfjs IOHandler that saves and loads a LayersModel that way.
 */
import { join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs-core';
import { UserError } from '../../errors.ts';
import { writeFileSynced } from '../../util/atomic.ts';
import { concatBytes } from '../../util/bytes.ts';
import { pathExists } from '../../util/exists.ts';
import {
  CHECKPOINT_JSON,
  MODEL_JSON,
  OPTIMIZER_BIN,
  OPTIMIZER_JSON,
  WEIGHTS_BIN,
  type OptimizerState,
  type WeightArray,
} from './format.ts';
import { sha256Checksum, verifyChecksums } from './checksums.ts';
import { readCheckpointFile } from './files.ts';
import { checkWeightShapes, isIntList, isRecord, readCheckpointMeta, readJson } from './validate.ts';
interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

interface ManifestContents {
  weights: Map<string, WeightArray>;
  /** File name (as in the manifest's paths) → checksum of the bytes read. */
  checksums: Map<string, string>;
}

/** A weight entry of a manifest, checked: a name, a shape, float32 and not quantized. */
function checkedEntry(manifestOwner: string, entry: unknown): ManifestWeight {
  if (!isRecord(entry) || typeof entry.name !== 'string' || !isIntList(entry.shape)) {
    throw new UserError(
      `${manifestOwner}: a weight entry lacks a name or shape; the checkpoint is damaged, use another one`,
    );
  }
  if (entry.dtype !== 'float32' || entry.quantization !== undefined) {
    throw new UserError(
      `${manifestOwner}: weight '${entry.name}' is ${entry.quantization ? 'quantized ' : ''}${String(entry.dtype)}; ` +
        `only float32 checkpoints are supported`,
    );
  }
  return entry as unknown as ManifestWeight;
}

/**
 * Reads a weights manifest's files and cuts them into float32 arrays, one per tensor. Each file
 * is a plain name in `dir`, a regular file, and no bigger than the manifest's tensors need,
 * checked before it is read (`readCheckpointFile`). The checksums of what was read are checked
 * by the caller, after the checks of the structure: "truncated" or "weight x is missing" says
 * more than "checksum mismatch".
 */
async function readManifestWeights(dir: string, manifestOwner: string, manifest: unknown): Promise<ManifestContents> {
  if (!Array.isArray(manifest))
    throw new UserError(`${manifestOwner}: 'weightsManifest' is missing; the checkpoint is damaged, use another one`);
  const weights = new Map<string, WeightArray>();
  const checksums = new Map<string, string>();
  for (const group of manifest) {
    if (!isRecord(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new UserError(
        `${manifestOwner}: a weightsManifest group lacks 'paths' or 'weights'; the checkpoint is damaged, use ` +
          `another one`,
      );
    }
    const entries = group.weights.map((entry) => checkedEntry(manifestOwner, entry));
    const expectedBytes = entries.reduce((sum, entry) => sum + 4 * entry.shape.reduce((a, b) => a * b, 1), 0);
    const parts: Buffer[] = [];
    let readBytes = 0;
    for (const name of group.paths.map(String)) {
      const part = await readCheckpointFile(dir, name, Math.max(0, expectedBytes - readBytes));
      parts.push(part);
      readBytes += part.length;
      checksums.set(name, sha256Checksum(part));
    }
    const bytes = Buffer.concat(parts);
    const file = group.paths.map(String).join('+');
    let offset = 0;
    for (const entry of entries) {
      const count = entry.shape.reduce((a, b) => a * b, 1);
      const end = offset + count * 4;
      if (end > bytes.length) {
        throw new UserError(
          `${join(dir, file)}: weight '${entry.name}' ${JSON.stringify(entry.shape)} needs bytes ${offset}…${end} ` +
            `but the file has ${bytes.length}; the checkpoint is truncated, use another one`,
        );
      }
      // Copy: the slice may not be 4-byte aligned inside the file buffer.
      const values = new Float32Array(count);
      new Uint8Array(values.buffer).set(bytes.subarray(offset, end));
      weights.set(entry.name, { shape: [...entry.shape], values });
      offset = end;
    }
    if (offset !== bytes.length) {
      throw new UserError(
        `${join(dir, file)}: ${bytes.length - offset} bytes after the last weight at byte ${offset}; the checkpoint ` +
          `is damaged, use another one`,
      );
    }
  }
  return { weights, checksums };
}

/** The checksums `checkpoint.json` records, when the directory has one (a checkpoint). */
async function recordedChecksums(dir: string): Promise<Record<string, string> | undefined> {
  if (!(await pathExists(join(dir, CHECKPOINT_JSON)))) return undefined;
  return (await readCheckpointMeta(dir)).checksums;
}

/**
 * The model's weights as plain arrays, `<layer>/<weight>` → `{ shape, values }`, read from
 * `model.json`'s manifest and `weights.bin` without tfjs. When `checkpoint.json` is there, every
 * weight its model options call for must be present with the right shape.
 */
export async function readCheckpointWeights(dir: string): Promise<Map<string, WeightArray>> {
  const modelPath = join(dir, MODEL_JSON);
  const modelJson = await readJson(modelPath);
  if (!isRecord(modelJson))
    throw new UserError(`${modelPath}: not a tfjs model.json; the checkpoint is damaged, use another one`);
  const { weights, checksums } = await readManifestWeights(dir, modelPath, modelJson.weightsManifest);
  if (await pathExists(join(dir, CHECKPOINT_JSON))) {
    const meta = await readCheckpointMeta(dir);
    checkWeightShapes(weights, meta.model, modelPath);
    verifyChecksums(dir, checksums, meta.checksums);
  }
  return weights;
}
/** Reads `optimizer.json` + `optimizer.bin` without tfjs. */
export async function readOptimizerState(dir: string): Promise<OptimizerState> {
  const path = join(dir, OPTIMIZER_JSON);
  const raw = await readJson(path);
  if (!isRecord(raw) || raw.kind !== 'adam')
    throw new UserError(`${path}: not an Adam optimizer state; the checkpoint is damaged or from another program`);
  for (const field of ['learningRate', 'beta1', 'beta2', 'epsilon'] as const) {
    if (typeof raw[field] !== 'number')
      throw new UserError(`${path}: field '${field}' must be a number; the checkpoint is damaged`);
  }
  if (!Number.isInteger(raw.iterations))
    throw new UserError(`${path}: field 'iterations' must be an integer; the checkpoint is damaged`);
  const { weights: arrays, checksums } = await readManifestWeights(dir, path, raw.weightsManifest);
  const names = Array.isArray(raw.variables) ? raw.variables.map(String) : [];
  const moments = names.map((name) => {
    const m = arrays.get(`${name}/m`);
    const v = arrays.get(`${name}/v`);
    if (!m || !v)
      throw new UserError(`${path}: the moments of '${name}' are missing; the checkpoint is damaged, use another one`);
    return { name, shape: m.shape, m: m.values, v: v.values };
  });
  verifyChecksums(dir, checksums, await recordedChecksums(dir));
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

export async function writeOptimizerState(dir: string, state: OptimizerState): Promise<void> {
  const weights = state.moments.flatMap((entry) => [
    { name: `${entry.name}/m`, shape: entry.shape, dtype: 'float32' },
    { name: `${entry.name}/v`, shape: entry.shape, dtype: 'float32' },
  ]);
  const bytes = concatBytes(state.moments.flatMap((entry) => [entry.m, entry.v]));
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
      const weightData = artifacts.weightData ?? [];
      const weights = concatBytes(Array.isArray(weightData) ? weightData : [weightData]);
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
      const { weights, checksums } = await readManifestWeights(dir, modelPath, modelJson.weightsManifest);
      verifyChecksums(dir, checksums, await recordedChecksums(dir));
      const weightSpecs = (modelJson.weightsManifest as { weights: tfTypes.io.WeightsManifestEntry[] }[]).flatMap(
        (g) => g.weights,
      );
      const weightData = concatBytes(weightSpecs.map((spec) => weights.get(spec.name)!.values));
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
