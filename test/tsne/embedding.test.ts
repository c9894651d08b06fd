import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clusteredData,
  computeAffinities,
  fit,
  neighborhoodHit,
  pcaInit,
  randomInit,
  TSNEEmbedding,
  tsneFrame,
} from '../../src/tsne/index.ts';
import { isUserError } from '../../src/errors.ts';

const n = 300;
const d = 16;
const data = clusteredData(n, d, 4, 7);
const P = computeAffinities(data.X, n, d, { perplexity: 20 });

test('N calls of optimize(1) give exactly one optimize(N), optimiser state included', () => {
  const start = pcaInit(data.X, n, d);
  const once = new TSNEEmbedding(start, P);
  const stepwise = new TSNEEmbedding(start, P);
  once.optimize({ iterations: 30, exaggeration: 12, momentum: 0.5 });
  once.optimize({ iterations: 20, momentum: 0.8 });
  for (let i = 0; i < 30; i++) stepwise.optimize({ iterations: 1, exaggeration: 12, momentum: 0.5 });
  for (let i = 0; i < 20; i++) stepwise.optimize({ iterations: 1, momentum: 0.8 });
  assert.deepEqual(stepwise.positions, once.positions);
  assert.deepEqual(stepwise.gains, once.gains);
  assert.deepEqual(stepwise.update, once.update);
  assert.equal(stepwise.iterationsDone, 50);
  // And the layout actually moved: the comparison above is not between two untouched copies.
  assert.ok(Math.abs(once.positions[0] - start[0]) > 1e-3);
});

test('a fixed seed gives identical output; another seed a different one', () => {
  const a = fit(data.X, n, d, { init: 'random', seed: 3, affinities: P, schedule: { maxIterations: 50 } });
  const b = fit(data.X, n, d, { init: 'random', seed: 3, affinities: P, schedule: { maxIterations: 50 } });
  const c = fit(data.X, n, d, { init: 'random', seed: 4, affinities: P, schedule: { maxIterations: 50 } });
  assert.deepEqual(a.embedding.positions, b.embedding.positions);
  assert.notDeepEqual(a.embedding.positions, c.embedding.positions);
  assert.deepEqual(randomInit(10, 9), randomInit(10, 9));
});

test('well-separated clusters come out separated (neighbourhood hit > 0.95)', () => {
  const { X, labels } = clusteredData(600, 32, 6, 21, 6);
  const frame = tsneFrame(X, 600, 32, { seed: 0 });
  const hit = neighborhoodHit(frame.positions, labels);
  assert.ok(hit > 0.95, `neighbourhood hit ${hit}`);
  assert.ok(frame.kl > 0 && Number.isFinite(frame.kl));
});

test('KL decreases as the optimiser runs', () => {
  const embedding = new TSNEEmbedding(pcaInit(data.X, n, d), P);
  embedding.optimize({ iterations: 100, exaggeration: 12, momentum: 0.5 });
  const early = embedding.klDivergence();
  embedding.optimize({ iterations: 100 });
  const late = embedding.klDivergence();
  assert.ok(late < early, `KL ${early} → ${late}`);
});

test('a warm start of the wrong size throws, naming both sizes', () => {
  assert.throws(
    () => tsneFrame(data.X, n, d, { init: new Float64Array(2 * 299) }),
    (error: unknown) =>
      isUserError(error) && /299/.test((error as Error).message) && /300/.test((error as Error).message),
  );
  assert.throws(() => new TSNEEmbedding(new Float64Array(10), P), /5 points.*300/);
});

test('a warm start continues from the given layout', () => {
  const first = tsneFrame(data.X, n, d, { seed: 0 });
  const again = tsneFrame(data.X, n, d, { seed: 0, init: first.positions });
  assert.equal(again.warm, true);
  assert.ok(again.iterations < first.iterations);
  // Same data, converged start: the layout should barely move (no re-scrambling).
  let moved = 0;
  for (let t = 0; t < first.positions.length; t++) moved += Math.abs(again.positions[t] - first.positions[t]);
  assert.ok(moved / first.positions.length < 0.2, `mean coordinate change ${moved / first.positions.length}`);
});
