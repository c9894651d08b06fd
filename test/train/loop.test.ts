import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.ts';
import { readCheckpointMeta, readCheckpointWeights } from '../../src/model/checkpoint.ts';
import { readEvents, scalarOf, imagesOf, textOf } from '../../src/tensorboard/index.ts';
import { ProgressBar } from '../../src/train/progress.ts';
import { train, type TrainOptions } from '../../src/train/loop.ts';
import { syntheticCifar } from './fixtures.ts';

await initBackend('wasm', { log: () => undefined });

const quiet = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
const hooks = () => ({ progress: new ProgressBar(quiet), log: () => undefined });
const dataset = syntheticCifar(96, 40);

function options(logdir: string, run: string, extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    logdir,
    run,
    epochs: 1,
    blocks: [1],
    widths: [8],
    stemChannels: 8,
    batchSize: 16,
    learningRate: 1e-2,
    seed: 3,
    checkpointEvery: 32,
    logEvery: 2,
    resume: false,
    dataSource: 'synthetic',
    ...extra,
  };
}

async function steps(runDir: string): Promise<number[]> {
  return (await readdir(join(runDir, 'checkpoints')))
    .map((n) => Number(/^step-(\d{9})$/.exec(n)?.[1] ?? NaN))
    .sort((a, b) => a - b);
}

/** tag → [step, value or kind] of every summary in the run. */
async function summaries(runDir: string): Promise<Map<string, [number, number | string][]>> {
  const byTag = new Map<string, [number, number | string][]>();
  for (const event of await readEvents(runDir)) {
    for (const value of event.summary?.value ?? []) {
      const scalar = scalarOf(value);
      const kind = scalar ?? (imagesOf(value).length ? 'image' : textOf(value) !== undefined ? 'text' : 'other');
      const list = byTag.get(value.tag!) ?? [];
      list.push([Number(event.step), kind]);
      byTag.set(value.tag!, list);
    }
  }
  return byTag;
}

async function withLogdir(fn: (logdir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'et-train-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a short run logs scalars, grids and options, checkpoints on schedule, and resumes upward', () =>
  withLogdir(async (logdir) => {
    const tensorsBefore = tf.memory().numTensors;
    const first = await train(options(logdir, 'r'), dataset, hooks());
    assert.equal(tf.memory().numTensors, tensorsBefore, 'train() releases every tensor it made');
    assert.equal(first.samplesSeen, 96);
    assert.equal(first.epochsCompleted, 1);
    assert.equal(first.stoppedEarly, false);
    // Step 0 (untrained), every 32 samples, and the epoch's end.
    assert.deepEqual(await steps(first.runDir), [0, 32, 64, 96]);
    const end = await readCheckpointMeta(join(first.runDir, 'checkpoints', 'step-000000096'));
    assert.equal(end.epoch, 1);
    assert.equal(end.iterations, 6);
    assert.equal(end.validationAccuracy, first.lastValidation?.accuracy);
    assert.deepEqual(end.model.blocks, [1]);

    const tags = await summaries(first.runDir);
    assert.deepEqual(tags.get('run/options'), [[0, 'text']]);
    assert.deepEqual(
      tags.get('train/loss')!.map(([s]) => s),
      [32, 64, 96],
    );
    assert.ok(tags.get('train/accuracy')!.every(([, v]) => typeof v === 'number' && v >= 0 && v <= 1));
    // TensorBoard scalars are float32.
    assert.deepEqual(tags.get('validation/accuracy'), [[96, Math.fround(first.lastValidation!.accuracy)]]);
    assert.equal(tags.get('validation/loss')!.length, 1);
    for (const name of dataset.classNames) assert.deepEqual(tags.get(`worst_samples/${name}`), [[96, 'image']], name);

    // Starting the same run again without --resume would mix two runs: refused.
    await assert.rejects(train(options(logdir, 'r'), dataset, hooks()), /already has 4 checkpoint\(s\); pass --resume/);

    // Resume for a second epoch: same weights to start from, steps continue upward.
    const second = await train(
      options(logdir, 'r', { epochs: 2, resume: true, batchSize: undefined, seed: undefined }),
      dataset,
      hooks(),
    );
    assert.equal(second.samplesSeen, 192);
    assert.deepEqual(await steps(first.runDir), [0, 32, 64, 96, 128, 160, 192]);
    const after = await summaries(first.runDir);
    assert.deepEqual(
      after.get('train/loss')!.map(([s]) => s),
      [32, 64, 96, 128, 160, 192],
    );
    assert.deepEqual(after.get('run/resumed'), [[96, 'text']]);
    assert.equal(tf.memory().numTensors, tensorsBefore);

    // Resuming a finished run without --epochs trains one more epoch.
    const third = await train(options(logdir, 'r', { epochs: undefined, resume: true }), dataset, hooks());
    assert.equal(third.samplesSeen, 288);
    assert.equal(third.epochsCompleted, 3);

    // A resume that contradicts the checkpoint's data order is refused.
    await assert.rejects(
      train(options(logdir, 'r', { epochs: 3, resume: true, batchSize: 32 }), dataset, hooks()),
      /--batch-size 32 differs from 16/,
    );
  }));

test('a run stopped mid-epoch and resumed ends where an uninterrupted run ends', () =>
  withLogdir(async (logdir) => {
    const whole = await train(options(logdir, 'whole', { checkpointEvery: 1000 }), dataset, hooks());

    const controller = new AbortController();
    const stopAt = 48;
    const cut = await train(options(logdir, 'cut', { checkpointEvery: 1000 }), dataset, {
      ...hooks(),
      signal: controller.signal,
      onStep: ({ samplesSeen }) => {
        if (samplesSeen === stopAt) controller.abort();
      },
    });
    assert.equal(cut.stoppedEarly, true);
    assert.equal(cut.samplesSeen, stopAt);
    assert.deepEqual(await steps(cut.runDir), [0, stopAt]);
    const stopped = await readCheckpointMeta(join(cut.runDir, 'checkpoints', `step-0000000${stopAt}`));
    assert.equal(stopped.epoch, 0);
    assert.equal((stopped.data as { positionInEpoch: number }).positionInEpoch, stopAt);

    const resumed = await train(options(logdir, 'cut', { checkpointEvery: 1000, resume: true }), dataset, hooks());
    assert.equal(resumed.samplesSeen, 96);
    assert.equal(resumed.lastValidation?.accuracy, whole.lastValidation?.accuracy);

    // Same batches in the same order with the same augmentation: the same network, up to the
    // float rounding of Adam's restored bias correction.
    const a = await readCheckpointWeights(join(whole.runDir, 'checkpoints', 'step-000000096'));
    const b = await readCheckpointWeights(join(cut.runDir, 'checkpoints', 'step-000000096'));
    assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
    for (const [name, weight] of a) {
      const other = b.get(name)!.values;
      const scale = Math.max(1e-3, ...weight.values.map(Math.abs));
      const worst = Math.max(...weight.values.map((v, i) => Math.abs(v - other[i]!)));
      assert.ok(worst <= 1e-4 * scale, `${name}: differs by ${worst} (scale ${scale})`);
    }
  }));
