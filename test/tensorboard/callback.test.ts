/** The tensorBoard() callback inside a real tfjs-layers `model.fit`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { listRuns, pluginOf, readRunEvents, scalarOf, tensorBoard } from '../../src/tensorboard/index.ts';

async function fitTiny(logdir: string, updateFreq: 'batch' | 'epoch'): Promise<void> {
  await tf.setBackend('cpu');
  const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [2] })] });
  model.compile({ optimizer: 'sgd', loss: 'meanSquaredError', metrics: ['mse'] });
  const xs = tf.tensor2d(Array.from({ length: 20 }, (_, i) => [i / 20, 1 - i / 20]));
  const ys = tf.tensor2d(Array.from({ length: 20 }, (_, i) => [i / 10]));
  try {
    await model.fit(xs, ys, {
      epochs: 2,
      batchSize: 8,
      validationSplit: 0.2,
      callbacks: tensorBoard(logdir, { updateFreq }),
      verbose: 0,
    });
  } finally {
    xs.dispose();
    ys.dispose();
    model.dispose();
  }
}

test('tensorBoard(logdir) writes train and val scalars per batch and epoch, stepped by samples seen', async () => {
  const logdir = mkdtempSync(join(tmpdir(), 'tb-callback-'));
  try {
    await fitTiny(logdir, 'batch');
    assert.deepEqual(
      (await listRuns(logdir)).map((run) => run.name),
      ['train', 'val'],
    );
    const tagsAndSteps = async (run: string) =>
      (await readRunEvents(join(logdir, run)))
        .filter((e) => e.summary)
        .map((e) => {
          const value = e.summary!.value![0]!;
          assert.equal(pluginOf(value), 'scalars');
          assert.ok(Number.isFinite(scalarOf(value)));
          return `${value.tag}@${e.step}`;
        });
    // 16 training samples (20 minus the 20% validation split) in batches of 8, 8: 2 batches per epoch.
    assert.deepEqual(await tagsAndSteps('train'), [
      'batch_loss@8',
      'batch_mse@8',
      'batch_loss@16',
      'batch_mse@16',
      'epoch_loss@16',
      'epoch_mse@16',
      'batch_loss@24',
      'batch_mse@24',
      'batch_loss@32',
      'batch_mse@32',
      'epoch_loss@32',
      'epoch_mse@32',
    ]);
    assert.deepEqual(await tagsAndSteps('val'), ['epoch_loss@16', 'epoch_mse@16', 'epoch_loss@32', 'epoch_mse@32']);
  } finally {
    rmSync(logdir, { recursive: true, force: true });
  }
});

test("updateFreq 'epoch' writes epoch scalars only", async () => {
  const logdir = mkdtempSync(join(tmpdir(), 'tb-callback-'));
  try {
    await fitTiny(logdir, 'epoch');
    const tags = (await readRunEvents(join(logdir, 'train')))
      .filter((e) => e.summary)
      .map((e) => e.summary!.value![0]!.tag);
    assert.deepEqual(tags, ['epoch_loss', 'epoch_mse', 'epoch_loss', 'epoch_mse']);
  } finally {
    rmSync(logdir, { recursive: true, force: true });
  }
});
