import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusteredData, tsneFrame } from '../../src/tsne/index.ts';
import { runTsneFrameInWorker } from '../../src/tsne/worker.ts';
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
