import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/backend/index.ts';
import { readCheckpointMeta, readCheckpointWeights, readOptimizerState } from '../../../src/model/checkpoint.ts';
import { readEvents, scalarOf, imagesOf } from '../../../src/tensorboard/index.ts';
import { ProgressBar } from '../../../src/train/progress.ts';
import { train, type StepFactory, type TrainOptions } from '../../../src/train/loop.ts';
import { parallelStepFactory } from '../../../src/train/parallel/step-factory.ts';
import { WorkerFailure, type WorkerPool } from '../../../src/train/parallel/pool.ts';
import { interruptibleTrainOptions, syntheticCifar, writeSyntheticCifarDir } from '../fixtures.ts';
import { startCli, until } from '../../helpers/cli.ts';
import { pathExists } from '../../../src/util/exists.ts';

await initBackend('wasm', { log: () => undefined });

const quiet = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
const dataset = syntheticCifar(96, 20);

function options(logdir: string, extra: Partial<TrainOptions>): TrainOptions {
  return {
    logdir,
    run: 'r',
    epochs: 1,
    blocks: [1],
    widths: [8],
    stemChannels: 8,
    batchSize: 32,
    learningRate: 1e-2,
    seed: 3,
    checkpointEvery: 32,
    logEvery: 1,
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

test('2 workers train, log and checkpoint like one; the run resumes with 1 worker and goes on upward', async () => {
  const logdir = await mkdtemp(join(tmpdir(), 'et-workers-'));
  try {
    const lines: string[] = [];
    const tensorsBefore = tf.memory().numTensors;
    const first = await train(options(logdir, { workers: 2 }), dataset, {
      progress: new ProgressBar(quiet),
      log: (l) => lines.push(l),
    });
    assert.equal(tf.memory().numTensors, tensorsBefore, 'train() releases every tensor it made');
    assert.ok(lines.includes('workers: 2 (asked for with --workers)'), lines.join('\n'));
    assert.equal(first.samplesSeen, 96);
    assert.deepEqual(await steps(first.runDir), [0, 32, 64, 96]);
    const end = join(first.runDir, 'checkpoints', 'step-000000096');
    assert.equal((await readCheckpointMeta(end)).iterations, 3);
    const adam = await readOptimizerState(end);
    assert.equal(adam.iterations, 3);
    assert.ok(adam.moments.length > 0 && adam.moments.every((m) => m.v.some((x) => x > 0)), 'Adam moments saved');

    const scalars = new Map<string, number[]>();
    let grids = 0;
    for (const event of await readEvents(first.runDir)) {
      for (const value of event.summary?.value ?? []) {
        const scalar = scalarOf(value);
        if (scalar !== undefined) scalars.set(value.tag!, [...(scalars.get(value.tag!) ?? []), Number(event.step)]);
        if (value.tag!.startsWith('worst_samples/') && imagesOf(value).length) grids++;
      }
    }
    assert.deepEqual(scalars.get('train/loss'), [32, 64, 96]);
    assert.deepEqual(scalars.get('validation/accuracy'), [96]);
    assert.equal(grids, 10);

    const resumed = await train(
      options(logdir, { epochs: 2, resume: true, batchSize: undefined, seed: undefined, workers: 1 }),
      dataset,
      {
        progress: new ProgressBar(quiet),
        log: (l) => lines.push(l),
      },
    );
    assert.ok(lines.includes('workers: 1 (asked for with --workers 1: the single-thread path)'));
    assert.equal(resumed.samplesSeen, 192);
    assert.deepEqual(await steps(first.runDir), [0, 32, 64, 96, 128, 160, 192]);
    assert.equal((await readCheckpointMeta(join(first.runDir, 'checkpoints', 'step-000000192'))).iterations, 6);
  } finally {
    await rm(logdir, { recursive: true, force: true });
  }
});

test('a worker that dies mid-run stops training with one line; the checkpoints before it stay complete', async () => {
  const logdir = await mkdtemp(join(tmpdir(), 'et-workers-crash-'));
  try {
    // The real parallel step, with worker 2 stopped from outside before the second step.
    const crashing: StepFactory = async (context) => {
      const step = (await parallelStepFactory(2, 'wasm')(context)) as Awaited<ReturnType<StepFactory>> &
        AsyncDisposable & { pool: WorkerPool };
      let count = 0;
      const wrapped = async (batch: Parameters<typeof step>[0]) => {
        if (++count === 2) await step.pool.threads[1]!.terminate();
        return step(batch);
      };
      return Object.assign(wrapped, { [Symbol.asyncDispose]: () => step[Symbol.asyncDispose]() });
    };
    const tensorsBefore = tf.memory().numTensors;
    await assert.rejects(
      train(options(logdir, {}), dataset, {
        progress: new ProgressBar(quiet),
        log: () => undefined,
        createStep: crashing,
      }),
      (e: unknown) =>
        e instanceof WorkerFailure &&
        !e.message.includes('\n') &&
        /^worker 2 of 2 exited unexpectedly .*continue with --resume --run r/.test(e.message),
    );
    assert.equal(tf.memory().numTensors, tensorsBefore);
    const runDir = join(logdir, 'r');
    assert.deepEqual(await steps(runDir), [0, 32]);
    assert.ok((await readCheckpointWeights(join(runDir, 'checkpoints', 'step-000000032'))).size > 0);
    const resumed = await train(options(logdir, { resume: true, workers: 1 }), dataset, {
      progress: new ProgressBar(quiet),
      log: () => undefined,
    });
    assert.equal(resumed.samplesSeen, 96);
  } finally {
    await rm(logdir, { recursive: true, force: true });
  }
});

test('train --workers 2: SIGINT finishes the step, checkpoints and exits 0 with no thread left', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'et-workers-cli-'));
  try {
    const data = await writeSyntheticCifarDir(join(dir, 'data'), 1600, 20);
    const logdir = join(dir, 'logs');
    const child = startCli(['train', ...interruptibleTrainOptions(data, logdir, 32, 100), '--workers', '2']);
    const output = () => child.lines.join('\n');
    const checkpoints = join(logdir, 'sig', 'checkpoints');
    const first = join(checkpoints, 'step-000000000', 'checkpoint.json');
    await until(
      'the first checkpoint and the workers line',
      async () => {
        return (await pathExists(first)) && /workers: 2/.test(output());
      },
      60,
    );
    await new Promise((r) => setTimeout(r, 1500));
    child.process.kill('SIGINT');
    // Worker threads still running would keep the process alive: exiting at all shows they were stopped.
    const { code } = await child.exited;
    const stderr = output();
    assert.equal(code, 0, stderr);
    assert.match(stderr, /SIGINT: stopping after this step/);
    // The newest checkpoint is the one the signal asked for, at a step boundary. (A fast machine
    // may also have passed an epoch end, with its own checkpoint, before the signal.)
    const stoppedAt = Number(/stopped at (\d+) samples/.exec(stderr)?.[1]);
    assert.ok(stoppedAt > 0 && stoppedAt % 32 === 0, stderr);
    const names = (await readdir(checkpoints)).filter((n) => !n.startsWith('.')).sort();
    assert.equal(names[0], 'step-000000000');
    const last = await readCheckpointMeta(join(checkpoints, names.at(-1)!));
    assert.equal(last.samplesSeen, stoppedAt, names.join(','));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
