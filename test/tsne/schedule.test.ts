import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  anchorDecay,
  autoLearningRate,
  clusteredData,
  computeAffinities,
  COLD_SCHEDULE,
  klStallStop,
  normalPhaseLearningRate,
  pcaInit,
  randomInit,
  resolveLearningRate,
  runSchedule,
  TSNEEmbedding,
  tsneFrame,
  WARM_SCHEDULE,
  warmLearningRate,
} from '../../src/tsne/index.ts';

/** A small embedding to hand the callbacks (they only read and set its anchor strength). */
function smallEmbedding(anchorStrength: number): TSNEEmbedding {
  const { X } = clusteredData(30, 4, 3, 1);
  const affinities = computeAffinities(X, 30, 4, { perplexity: 5 });
  return new TSNEEmbedding(pcaInit(X, 30, 4), affinities, { anchor: pcaInit(X, 30, 4), anchorStrength });
}

test('the KL-stall stop fires once KL improves by less than the fraction, and never while anchored', () => {
  const free = smallEmbedding(0);
  const stop = klStallStop(0.01);
  assert.equal(stop(50, 2.0, free), false, 'nothing to compare with yet');
  assert.equal(stop(100, 1.9, free), false, '5 % better');
  assert.equal(stop(150, 1.895, free), true, '0.26 % better');
  const anchored = smallEmbedding(0.01);
  const held = klStallStop(0.01);
  held(50, 2.0, anchored);
  assert.equal(held(100, 2.5, anchored), false, 'KL may rise on purpose under a pull');
});

test('the anchor decay lowers the pull linearly to zero over the phase', () => {
  const embedding = smallEmbedding(0.4);
  const decay = anchorDecay(0.4, 200);
  const seen = [50, 100, 150, 200, 250].map((iteration) => {
    decay(iteration, 1, embedding);
    return embedding.anchorStrength;
  });
  assert.deepEqual(
    seen.map((s) => Number(s.toFixed(6))),
    [0.3, 0.2, 0.1, 0, 0],
  );
});

test('runSchedule calls every callback after each chunk and stops when one says so', () => {
  const n = 60;
  const { X } = clusteredData(n, 5, 3, 2);
  const affinities = computeAffinities(X, n, 5, { perplexity: 10 });
  const calls: number[] = [];
  const schedule = { ...COLD_SCHEDULE, exaggerationIterations: 20, maxIterations: 400, checkEvery: 25 };
  const { embedding } = runSchedule(affinities, pcaInit(X, n, 5), schedule, 0.5, undefined, [
    (iteration) => {
      calls.push(iteration);
      return iteration === 75;
    },
  ]);
  assert.deepEqual(calls, [25, 50, 75]);
  assert.equal(embedding.iterationsDone, 20 + 75);
});

test('affinities record the perplexity they used, and say so when it had to be lowered', () => {
  const { X } = clusteredData(12, 3, 2, 3);
  const warnings: string[] = [];
  const lowered = computeAffinities(X, 12, 3, { perplexity: 30, warn: (m) => void warnings.push(m) });
  assert.equal(lowered.perplexity, 11);
  assert.equal(lowered.requestedPerplexity, 30);
  assert.deepEqual(warnings, ['perplexity 30 lowered to 11: there are only 12 points']);
  const kept = computeAffinities(X, 12, 3, { perplexity: 4, warn: (m) => void warnings.push(m) });
  assert.equal(kept.perplexity, 4);
  assert.equal(warnings.length, 1);
});

test('a warm frame runs until KL stalls: longer from a poor start, and it ends near the cold KL', () => {
  const n = 800;
  const { X } = clusteredData(n, 16, 8, 5);
  const cold = tsneFrame(X, n, 16, { seed: 0 });
  const fromConverged = tsneFrame(X, n, 16, { seed: 0, init: cold.positions });
  const fromRandom = tsneFrame(X, n, 16, { seed: 0, init: randomInit(n, 1) });
  assert.ok(
    fromRandom.iterations > fromConverged.iterations,
    `iterations from a random layout ${fromRandom.iterations}, from the converged one ${fromConverged.iterations}`,
  );
  assert.ok(fromRandom.iterations <= WARM_SCHEDULE.maxIterations);
  assert.ok(fromRandom.kl < cold.kl * 1.1, `KL warm from random ${fromRandom.kl}, cold ${cold.kl}`);
});

test("'auto' has one meaning per phase: N / (4 × exaggeration), at least 50", () => {
  assert.equal(autoLearningRate(10_000, 12), 10_000 / 48);
  assert.equal(autoLearningRate(10_000, 1), 2500);
  assert.equal(autoLearningRate(100, 1), 50);
  assert.equal(resolveLearningRate('auto', 10_000, 12), autoLearningRate(10_000, 12));
  assert.equal(resolveLearningRate(undefined, 10_000, 1), 2500);
  assert.equal(resolveLearningRate(7, 10_000, 1), 7);
});

test('a warm frame takes the normal rate up to 5,000 points, twice it from 10,000; a cold one the normal rate', () => {
  for (const n of [30, 2000, 5000]) assert.equal(warmLearningRate(n), normalPhaseLearningRate(n));
  assert.equal(warmLearningRate(7500), 1.5 * normalPhaseLearningRate(7500));
  for (const n of [10_000, 60_000]) assert.equal(warmLearningRate(n), 2 * normalPhaseLearningRate(n));
  assert.equal(WARM_SCHEDULE.learningRate, warmLearningRate);
  assert.equal(COLD_SCHEDULE.learningRate, normalPhaseLearningRate);
});
