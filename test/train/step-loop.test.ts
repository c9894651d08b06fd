import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSteps, type BatchSource, type TrainObserver } from '../../src/train/step-loop.ts';
import type { Batch } from '../../src/train/step.ts';

/** Batches of `batch` samples over an epoch of `perEpoch`, tagged with their epoch and offset. */
function source(perEpoch: number, batch: number): BatchSource {
  return {
    samplesPerEpoch: perEpoch,
    *batches(epoch, startOffset) {
      for (let offset = startOffset; offset < perEpoch; offset += batch) {
        const count = Math.min(batch, perEpoch - offset);
        yield { x: new Float32Array([epoch, offset]), labels: new Int32Array(count), count, offset };
      }
    },
  };
}

/** Records every call, in order, as a short string. */
function recorder(calls: string[], stopAtStep?: number): TrainObserver {
  return {
    onTrainBegin: (p) => void calls.push(`begin ${p.samplesSeen}`),
    onStepEnd: (r) => {
      calls.push(`step ${r.samplesSeen} e${r.epoch} @${r.positionInEpoch}/${r.samplesPerEpoch} loss ${r.loss}`);
      return r.samplesSeen === stopAtStep;
    },
    onEpochEnd: (r) => void calls.push(`epoch ${r.epoch}/${r.epochs} at ${r.samplesSeen} acc ${r.validation.accuracy}`),
    onTrainEnd: (r) => void calls.push(`end ${r.samplesSeen} e${r.epoch} stopped ${r.stoppedEarly}`),
  };
}

test(
  'the loop steps through every batch of every epoch, validating at each epoch end, and tells the ' + 'observers',
  async () => {
    const calls: string[] = [];
    const stepped: string[] = [];
    const step = async (batch: Batch) => {
      stepped.push(`${batch.images[0]}:${batch.images[1]}x${batch.size}`);
      return { loss: stepped.length, correct: 1 };
    };
    let validations = 0;
    const result = await runSteps({
      step,
      batches: source(10, 4),
      validate: async () => ({ loss: 0.5, accuracy: ++validations / 10 }),
      epochs: 2,
      start: { epoch: 0, positionInEpoch: 0, samplesSeen: 0 },
      observers: [recorder(calls)],
    });
    assert.deepEqual(stepped, ['0:0x4', '0:4x4', '0:8x2', '1:0x4', '1:4x4', '1:8x2']);
    assert.deepEqual(calls, [
      'begin 0',
      'step 4 e0 @4/10 loss 1',
      'step 8 e0 @8/10 loss 2',
      'step 10 e0 @10/10 loss 3',
      'epoch 1/2 at 10 acc 0.1',
      'step 14 e1 @4/10 loss 4',
      'step 18 e1 @8/10 loss 5',
      'step 20 e1 @10/10 loss 6',
      'epoch 2/2 at 20 acc 0.2',
      'end 20 e2 stopped false',
    ]);
    assert.deepEqual(result, {
      epoch: 2,
      positionInEpoch: 0,
      samplesSeen: 20,
      stoppedEarly: false,
      validation: { loss: 0.5, accuracy: 0.2 },
    });
  },
);

test('an observer that asks to stop ends the loop after that step; the others still hear of it', async () => {
  const calls: string[] = [];
  const others: string[] = [];
  const result = await runSteps({
    step: async () => ({ loss: 0, correct: 0 }),
    batches: source(10, 4),
    validate: async () => assert.fail('no epoch ends'),
    epochs: 1,
    start: { epoch: 0, positionInEpoch: 4, samplesSeen: 104 },
    observers: [recorder(calls, 108), recorder(others)],
  });
  assert.deepEqual(calls, ['begin 104', 'step 108 e0 @8/10 loss 0', 'end 108 e0 stopped true']);
  assert.deepEqual(others, calls);
  assert.deepEqual(result, { epoch: 0, positionInEpoch: 8, samplesSeen: 108, stoppedEarly: true });
});

test('a run that already reached its epochs steps nothing', async () => {
  const calls: string[] = [];
  const result = await runSteps({
    step: async () => assert.fail('no step'),
    batches: source(10, 4),
    validate: async () => assert.fail('no validation'),
    epochs: 3,
    start: { epoch: 3, positionInEpoch: 0, samplesSeen: 30 },
    observers: [recorder(calls)],
  });
  assert.deepEqual(calls, ['begin 30', 'end 30 e3 stopped false']);
  assert.equal(result.stoppedEarly, false);
});
