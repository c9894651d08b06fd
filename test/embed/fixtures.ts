/**
 * Test fixtures for the inference engines: checkpoints of freshly initialised ResNets whose batch
 * norms have non-trivial moving statistics, gamma and beta (so folding is really exercised), real
 * CIFAR-10 test images, and the "relative" error the issue defines.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildResNet, resolveModelOptions, type ResNetConfig } from '../../src/model/resnet.ts';
import { saveCheckpoint } from '../../src/model/checkpoint.ts';
import { loadCifar10 } from '../../src/data/load.ts';
import { toModelInput } from '../../src/data/subset.ts';
import type * as tfl from '@tensorflow/tfjs-layers';
import { needs } from '../helpers/requirements.ts';

/** Deterministic uniform numbers in [0, 1) (Park–Miller), so fixtures do not change between runs. */
export function uniform(seed: number): () => number {
  let state = seed % 2147483647 || 1;
  return () => {
    state = (state * 16807) % 2147483647;
    return (state - 1) / 2147483646;
  };
}

/**
 * Gives every batch norm of `model` moving statistics and affine parameters far from the
 * identity (gamma 0.5…1.5, beta ±0.2, mean ±0.3, variance 0.3…2), as a trained network has.
 */
export function setNonTrivialBatchNorms(model: tfl.LayersModel, seed: number): void {
  const random = uniform(seed);
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const channels = layer.getWeights()[0]!.shape[0]!;
    const vector = (f: () => number) => tf.tensor1d(Float32Array.from({ length: channels }, f));
    const values = [
      vector(() => 0.5 + random()),
      vector(() => (random() - 0.5) * 0.4),
      vector(() => (random() - 0.5) * 0.6),
      vector(() => 0.3 + random() * 1.7),
    ];
    layer.setWeights(values);
    tf.dispose(values);
  }
}

export interface TestCheckpoint {
  dir: string;
  model: tfl.LayersModel;
  cleanup(): Promise<void>;
}

/**
 * Builds a ResNet, sets non-trivial batch norms and saves it as a complete checkpoint with the
 * project's own `saveCheckpoint` (so the tests read exactly what `train` writes). The caller
 * disposes `model` via `cleanup()`.
 */
export async function makeCheckpoint(config: ResNetConfig, seed = 1): Promise<TestCheckpoint> {
  const root = await mkdtemp(join(tmpdir(), 'embed-test-'));
  const model = buildResNet({ seed, ...config });
  setNonTrivialBatchNorms(model, seed + 100);
  const optimizer = tf.train.adam(1e-3);
  const dir = await saveCheckpoint(join(root, 'checkpoints'), {
    model,
    optimizer,
    meta: {
      epoch: 0,
      samplesSeen: 1024,
      iterations: 4,
      model: resolveModelOptions(config),
      data: { source: 'test fixture' },
      seed,
    },
  });
  optimizer.dispose();
  return {
    dir,
    model,
    cleanup: async () => {
      model.dispose();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** The first `count` CIFAR-10 test images as model input, or undefined without the data (`needs('cifar')`). */
export async function cifarTestInput(count: number): Promise<Float32Array | undefined> {
  const source = process.env.CIFAR10_PATH;
  if (needs('cifar') !== false || !source) return undefined;
  const data = await loadCifar10(source, { splits: 'test', log: () => undefined });
  return toModelInput(
    data.test.images,
    Int32Array.from({ length: count }, (_, i) => i),
  );
}

/**
 * max over rows of (max |a − b| in the row) / (max |a| in the row): the tolerance measure
 * (an element's error scaled by its row's largest magnitude).
 */
export function maxRelativeRowError(a: Float32Array, b: Float32Array, rowLength: number): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let start = 0; start < a.length; start += rowLength) {
    let diff = 0;
    let magnitude = 0;
    for (let j = start; j < start + rowLength; j++) {
      diff = Math.max(diff, Math.abs(a[j]! - b[j]!));
      magnitude = Math.max(magnitude, Math.abs(a[j]!));
    }
    worst = Math.max(worst, magnitude === 0 ? diff : diff / magnitude);
  }
  return worst;
}

/** The layers model's outputs in inference mode, in batches (the reference every engine meets). */
export async function layersModelOutputs(
  model: tfl.LayersModel,
  input: Float32Array,
  n: number,
  batchSize = 128,
): Promise<{ logits: Float32Array; embeddings: Float32Array }> {
  const numClasses = model.outputs[0]!.shape[1]!;
  const embeddingSize = model.outputs[1]!.shape[1]!;
  const logits = new Float32Array(n * numClasses);
  const embeddings = new Float32Array(n * embeddingSize);
  for (let start = 0; start < n; start += batchSize) {
    const count = Math.min(batchSize, n - start);
    const [l, e] = tf.tidy(() => {
      const x = tf.tensor4d(input.subarray(start * 3072, (start + count) * 3072), [count, 32, 32, 3]);
      return model.apply(x, { training: false }) as tf.Tensor[];
    });
    logits.set(await l!.data(), start * numClasses);
    embeddings.set(await e!.data(), start * embeddingSize);
    tf.dispose([l!, e!]);
  }
  return { logits, embeddings };
}
