import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusteredData, tsneFrame } from '../../src/tsne/index.ts';
import { TsneWorker, runTsneFrameInWorker } from '../../src/tsne/worker.ts';
import { isUserError } from '../../src/errors.ts';

test('a frame computed on a worker thread equals the same frame on the main thread', async () => {
  const { X } = clusteredData(200, 12, 3, 8);
  const [offThread, onThread] = [
    await runTsneFrameInWorker(X, 200, 12, { seed: 2, perplexity: 15 }),
    tsneFrame(X, 200, 12, { seed: 2, perplexity: 15 }),
  ];
  assert.deepEqual(offThread.positions, onThread.positions);
  assert.equal(offThread.kl, onThread.kl);
  assert.equal(offThread.iterations, onThread.iterations);
  assert.equal(X.length, 200 * 12, 'the input stays usable by the caller');
  // Warm start through the worker as well.
  const warm = await runTsneFrameInWorker(X, 200, 12, { seed: 2, perplexity: 15, init: onThread.positions });
  assert.equal(warm.warm, true);
});

test('a user mistake inside the worker comes back as a UserError', async () => {
  const { X } = clusteredData(50, 4, 2, 1);
  await assert.rejects(
    runTsneFrameInWorker(X, 50, 4, { init: new Float64Array(8) }),
    (error: unknown) => isUserError(error) && /4 points.*50/.test((error as Error).message),
  );
});

test('one TsneWorker runs frame after frame on its thread, a user mistake in between included', async (t) => {
  const { X } = clusteredData(100, 6, 2, 3);
  const worker = new TsneWorker();
  t.after(() => worker.close());
  const first = await worker.run(X, 100, 6, { seed: 1, perplexity: 10 });
  await assert.rejects(worker.run(X, 100, 6, { init: new Float64Array(8) }), isUserError);
  // Two frames asked for at once run one after the other, each as on the main thread.
  const [again, warm] = await Promise.all([
    worker.run(X, 100, 6, { seed: 1, perplexity: 10 }),
    worker.run(X, 100, 6, { seed: 1, perplexity: 10, init: first.positions }),
  ]);
  assert.deepEqual(again.positions, first.positions);
  assert.deepEqual(warm.positions, tsneFrame(X, 100, 6, { seed: 1, perplexity: 10, init: first.positions }).positions);
});

test('a TsneWorker warmed up for 2 threads runs its first frame on them, as a cold one would', async (t) => {
  const { X } = clusteredData(600, 6, 3, 4);
  const short = { exaggerationIterations: 20, maxIterations: 20 };
  const warmedUp = new TsneWorker();
  const cold = new TsneWorker();
  t.after(() => Promise.all([warmedUp.close(), cold.close()]));
  warmedUp.warmUp(2);
  const [first, reference] = await Promise.all([
    warmedUp.run(X, 600, 6, { threads: 2, schedule: short }),
    cold.run(X, 600, 6, { threads: 2, schedule: short }),
  ]);
  assert.equal(first.threads, 2);
  assert.deepEqual(first.positions, reference.positions);
});
