import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseWorkerCount, planSlices } from '../../../src/train/parallel/slices.ts';

test('slices cover the batch in order, sizes differ by at most one, none is empty', () => {
  assert.deepEqual(planSlices(256, 2), [
    { start: 0, count: 128 },
    { start: 128, count: 128 },
  ]);
  assert.deepEqual(planSlices(10, 3), [
    { start: 0, count: 4 },
    { start: 4, count: 3 },
    { start: 7, count: 3 },
  ]);
  assert.deepEqual(planSlices(2, 4), [
    { start: 0, count: 1 },
    { start: 1, count: 1 },
  ]);
  assert.deepEqual(planSlices(7, 1), [{ start: 0, count: 7 }]);
  for (let count = 1; count < 40; count++) {
    for (let workers = 1; workers < 9; workers++) {
      const slices = planSlices(count, workers);
      assert.equal(
        slices.reduce((sum, s) => sum + s.count, 0),
        count,
      );
      slices.forEach((s, i) => assert.equal(s.start, i === 0 ? 0 : slices[i - 1]!.start + slices[i - 1]!.count));
      const sizes = slices.map((s) => s.count);
      assert.ok(Math.min(...sizes) >= 1 && Math.max(...sizes) - Math.min(...sizes) <= 1, `${count}/${workers}`);
    }
  }
  assert.throws(() => planSlices(0, 2), RangeError);
});

test('worker count: one per core, capped at 16 images each, 1 for backends with their own threads', () => {
  assert.deepEqual(chooseWorkerCount({ batchSize: 256, cores: 8, backend: 'wasm' }), {
    workers: 8,
    reason: '8 (one per core, 8 available)',
  });
  const clamped = chooseWorkerCount({ batchSize: 40, cores: 8, backend: 'wasm' });
  assert.equal(clamped.workers, 2);
  assert.match(clamped.reason, /8 cores, clamped so that each gets >= 16 images of a batch of 40/);
  assert.equal(chooseWorkerCount({ batchSize: 8, cores: 8, backend: 'wasm' }).workers, 1);
  assert.equal(chooseWorkerCount({ asked: 3, batchSize: 256, cores: 2, backend: 'wasm' }).workers, 3);
  assert.match(
    chooseWorkerCount({ asked: 4, batchSize: 32, cores: 2, backend: 'wasm' }).reason,
    /^2 \(4 asked for, clamped/,
  );
  assert.match(chooseWorkerCount({ asked: 1, batchSize: 256, cores: 8, backend: 'wasm' }).reason, /single-thread path/);
  assert.equal(chooseWorkerCount({ batchSize: 256, cores: 8, backend: 'webgpu' }).workers, 1);
  const native = chooseWorkerCount({ asked: 2, batchSize: 256, cores: 8, backend: 'tensorflow' });
  assert.deepEqual(native, {
    workers: 1,
    reason:
      '1 (--workers 2 asked for, but the tensorflow backend runs on its own threads or device; ' +
      'worker threads are for wasm)',
  });
});
