import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stopOnAbort } from '../../src/train/observers/abort.ts';
import { CheckpointObserver } from '../../src/train/observers/checkpoints.ts';
import { progressLine } from '../../src/train/observers/progress.ts';
import { trainScalars } from '../../src/train/observers/scalars.ts';
import type { ProgressState } from '../../src/train/progress.ts';
import type { RunPosition, StepReport } from '../../src/train/step-loop.ts';

function stepReport(samplesSeen: number, extra: Partial<StepReport> = {}): StepReport {
  return {
    epoch: 0,
    positionInEpoch: samplesSeen,
    samplesSeen,
    epochs: 2,
    samplesPerEpoch: 100,
    size: 10,
    loss: 1,
    correct: 5,
    imagesPerSecond: 50,
    ...extra,
  };
}

test('train scalars are the means over each window of logEvery steps, at the window end', async () => {
  const written: [string, number, number][] = [];
  const observer = trainScalars({ scalar: (tag, value, step) => void written.push([tag, value, step]) }, 2);
  await observer.onStepEnd!(stepReport(10, { loss: 1, correct: 2 }));
  assert.deepEqual(written, []);
  await observer.onStepEnd!(stepReport(20, { loss: 3, correct: 6, imagesPerSecond: 70 }));
  await observer.onStepEnd!(stepReport(30, { loss: 5, correct: 10 }));
  assert.deepEqual(written, [
    ['train/loss', 2, 20],
    ['train/accuracy', 0.4, 20],
    ['train/images_per_second', 70, 20],
  ]);
});

test('the progress observer draws each step and prints one line per epoch', async () => {
  const states: ProgressState[] = [];
  const lines: string[] = [];
  const observer = progressLine({ update: (s) => void states.push(s), log: (l) => void lines.push(l) });
  await observer.onStepEnd!(stepReport(30, { epoch: 1, positionInEpoch: 30, samplesSeen: 130, correct: 4 }));
  assert.deepEqual(states, [
    {
      epoch: 1,
      epochs: 2,
      samplesInEpoch: 30,
      epochSize: 100,
      loss: 1,
      accuracy: 0.4,
      imagesPerSecond: 50,
      remainingSamples: 70,
    },
  ]);
  await observer.onEpochEnd!({
    epoch: 2,
    epochs: 2,
    positionInEpoch: 0,
    samplesSeen: 200,
    validation: { loss: 0.25, accuracy: 0.5 },
  });
  assert.deepEqual(lines, ['epoch 2/2: validation loss 0.2500, accuracy 50.00% (200 samples seen)']);
});

test('the abort observer asks to stop once the signal is aborted, after a step or an epoch', () => {
  const controller = new AbortController();
  const observer = stopOnAbort(controller.signal);
  assert.equal(observer.onStepEnd!(stepReport(10)), false);
  controller.abort();
  assert.equal(observer.onStepEnd!(stepReport(20)), true);
  assert.equal(
    observer.onEpochEnd!({
      epoch: 1,
      epochs: 1,
      positionInEpoch: 0,
      samplesSeen: 100,
      validation: { loss: 0, accuracy: 0 },
    }),
    true,
  );
});

test(
  'checkpoints: at the start of a fresh run, on the interval, at epoch ends with accuracy, at the end, never ' +
    'twice',
  async () => {
    const saved: string[] = [];
    const save = async (p: RunPosition, accuracy?: number) => {
      const name =
        `${p.samplesSeen} e${p.epoch} @${p.positionInEpoch}` + `${accuracy === undefined ? '' : ` acc ${accuracy}`}`;
      saved.push(name);
      return name;
    };
    const observer = new CheckpointObserver(save, {
      every: 40,
      start: { epoch: 0, positionInEpoch: 0, samplesSeen: 0 },
      atStart: true,
    });
    await observer.onTrainBegin({ epoch: 0, positionInEpoch: 0, samplesSeen: 0 });
    for (let seen = 10; seen <= 100; seen += 10) await observer.onStepEnd(stepReport(seen));
    // 80 is due but it is not the epoch's last step; 100 ends the epoch: that checkpoint carries the accuracy.
    await observer.onEpochEnd({
      epoch: 1,
      epochs: 2,
      positionInEpoch: 0,
      samplesSeen: 100,
      validation: { loss: 1, accuracy: 0.3 },
    });
    await observer.onStepEnd(stepReport(110, { epoch: 1, positionInEpoch: 10 }));
    await observer.onTrainEnd({ epoch: 1, positionInEpoch: 10, samplesSeen: 110, stoppedEarly: true });
    await observer.onTrainEnd({ epoch: 1, positionInEpoch: 10, samplesSeen: 110, stoppedEarly: true });
    assert.deepEqual(saved, ['0 e0 @0', '40 e0 @40', '80 e0 @80', '100 e1 @0 acc 0.3', '110 e1 @10']);
    assert.deepEqual(observer.written, saved);
  },
);

test('a resumed run writes no checkpoint at its start and counts the interval from its checkpoint', async () => {
  const saved: number[] = [];
  const start = { epoch: 0, positionInEpoch: 30, samplesSeen: 30 };
  const observer = new CheckpointObserver(async (p) => String(saved.push(p.samplesSeen)), {
    every: 40,
    start,
    atStart: false,
  });
  await observer.onTrainBegin(start);
  for (let seen = 40; seen <= 80; seen += 10) await observer.onStepEnd(stepReport(seen));
  await observer.onTrainEnd({ epoch: 0, positionInEpoch: 80, samplesSeen: 80, stoppedEarly: false });
  assert.deepEqual(saved, [70, 80]);
});
