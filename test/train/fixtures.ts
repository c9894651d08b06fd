/**
 * Small synthetic CIFAR-10 stand-ins for the training tests: each class has its own colour
 * plus noise, so even a tiny network learns something within a few steps.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Cifar10, Split } from '../../src/data/index.ts';

const CLASS_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** A deterministic generator for test data (not the project's; tests must not depend on it). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export function syntheticSplit(count: number, seed: number): Split {
  const random = lcg(seed);
  const images = new Uint8Array(count * 32 * 32 * 3);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % 10;
    labels[i] = label;
    const base = [(label * 25) % 256, (label * 67) % 256, (label * 131) % 256];
    for (let p = 0; p < 32 * 32; p++) {
      for (let c = 0; c < 3; c++)
        images[(i * 1024 + p) * 3 + c] = Math.max(0, Math.min(255, base[c]! + Math.floor((random() - 0.5) * 60)));
    }
  }
  return { images, labels, count };
}

export function syntheticCifar(trainCount: number, testCount: number): Cifar10 {
  return {
    train: syntheticSplit(trainCount, 1),
    test: syntheticSplit(testCount, 2),
    classNames: [...CLASS_NAMES],
    trainFiles: ['synthetic'],
  };
}

/** Writes a split in the official binary layout (label byte, then planar R, G, B). */
function toCifarBinary(split: Split): Uint8Array {
  const out = new Uint8Array(split.count * 3073);
  for (let i = 0; i < split.count; i++) {
    const record = i * 3073;
    out[record] = split.labels[i]!;
    for (let p = 0; p < 1024; p++) {
      for (let c = 0; c < 3; c++) out[record + 1 + c * 1024 + p] = split.images[(i * 1024 + p) * 3 + c]!;
    }
  }
  return out;
}

/** A `cifar-10-batches-bin/` folder under `dir` with one training batch, for CLI tests. */
export async function writeSyntheticCifarDir(dir: string, trainCount: number, testCount: number): Promise<string> {
  const data = syntheticCifar(trainCount, testCount);
  const folder = join(dir, 'cifar-10-batches-bin');
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'data_batch_1.bin'), toCifarBinary(data.train));
  await writeFile(join(folder, 'test_batch.bin'), toCifarBinary(data.test));
  await writeFile(join(folder, 'batches.meta.txt'), CLASS_NAMES.join('\n') + '\n');
  return dir;
}

/**
 * Options of a `train` run meant to be interrupted: the smallest ResNet on wasm for far more
 * epochs than a test waits, as run 'sig' under `logdir`.
 */
export function interruptibleTrainOptions(data: string, logdir: string, batchSize: number, epochs: number): string[] {
  return [
    '--data',
    data,
    '--blocks',
    '1',
    '--batch-size',
    String(batchSize),
    '--epochs',
    String(epochs),
    '--logdir',
    logdir,
    '--run',
    'sig',
    '--backend',
    'wasm',
  ];
}
