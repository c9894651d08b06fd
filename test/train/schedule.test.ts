import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckpointSchedule } from '../../src/train/schedule.ts';
import { formatDuration, formatProgress } from '../../src/train/progress.ts';

/** The samples-seen values at which a run with this schedule checkpoints mid-epoch. */
function checkpointsOf(schedule: CheckpointSchedule, batch: number, perEpoch: number, epochs: number): number[] {
  const out: number[] = [];
  let seen = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let position = 0; position < perEpoch; position += batch) {
      seen += batch;
      if (schedule.due(seen, epoch)) {
        schedule.written(seen);
        out.push(seen);
      }
    }
  }
  return out;
}

test('the default schedule is dense in epoch 1, sparser in epoch 2 and sparse after', () => {
  const schedule = new CheckpointSchedule(undefined, 0);
  assert.deepEqual(
    [0, 1, 2, 7].map((e) => schedule.interval(e)),
    [5_000, 10_000, 50_000, 50_000],
  );
  const at = checkpointsOf(schedule, 1_000, 20_000, 5);
  assert.deepEqual(at, [5_000, 10_000, 15_000, 20_000, 30_000, 40_000, 90_000]);
});

test('--checkpoint-every replaces the schedule, and a resumed run counts from its checkpoint', () => {
  const fixed = new CheckpointSchedule(3_000, 0);
  assert.deepEqual(checkpointsOf(fixed, 1_000, 5_000, 2), [3_000, 6_000, 9_000]);
  const resumed = new CheckpointSchedule(undefined, 12_800);
  assert.equal(resumed.isWritten(12_800), true);
  assert.equal(resumed.due(12_800 + 4_864, 0), false);
  assert.equal(resumed.due(12_800 + 5_120, 0), true);
});

test('the progress line shows loss, accuracy, speed and ETA', () => {
  const line = formatProgress(
    {
      epoch: 0,
      epochs: 2,
      samplesInEpoch: 512,
      epochSize: 1024,
      loss: 1.23456,
      accuracy: 0.5,
      imagesPerSecond: 16,
      remainingSamples: 1536,
    },
    10,
  );
  assert.equal(line, 'epoch 1/2 [#####.....] 512/1024 loss 1.2346 acc 0.500 16.0 img/s ETA 1:36');
  assert.equal(formatDuration(3725), '1:02:05');
  assert.equal(formatDuration(Infinity), '--:--');
});
