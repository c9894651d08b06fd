import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Exchange, parameterLayout, weightedAverage } from '../../../src/train/parallel/exchange.ts';
import { weightsChecksum } from '../../../src/train/parallel/checksum.ts';

test('layout puts the trainable weights first, then the moving statistics', () => {
  const layout = parameterLayout(
    [
      { name: 'k', shape: [3, 3, 2, 4] },
      { name: 'b', shape: [4] },
    ],
    [{ name: 'mean', shape: [4] }],
  );
  assert.deepEqual(
    layout.trainable.map((s) => [s.offset, s.size]),
    [
      [0, 72],
      [72, 4],
    ],
  );
  assert.deepEqual(
    layout.moving.map((s) => [s.offset, s.size]),
    [[76, 4]],
  );
  assert.equal(layout.trainableSize, 76);
  assert.equal(layout.rowSize, 80);
  const exchange = Exchange.allocate(layout, 3, 5);
  assert.ok(exchange.buffers.gradients instanceof SharedArrayBuffer);
  exchange.row(1).fill(2);
  // Rows are disjoint views of one shared buffer; another view over the same buffers sees them.
  const other = new Exchange(exchange.buffers, layout, 3);
  assert.deepEqual([other.row(0)[79], other.row(1)[0], other.row(1)[79], other.row(2)[0]], [0, 2, 2, 0]);
  other.setStats(2, 1.5, 7);
  assert.deepEqual([exchange.stat(2, 0), exchange.stat(2, 1)], [1.5, 7]);
  assert.equal(exchange.sliceLabels({ start: 1, count: 3 }).length, 3);
  assert.equal(exchange.sliceImages({ start: 4, count: 1 }).length, 32 * 32 * 3);
});

test('the weighted average weights each row by its share of the batch', () => {
  const out = new Float32Array(3);
  weightedAverage([Float32Array.of(1, 2, 3), Float32Array.of(3, 2, 1)], [0.5, 0.5], out);
  assert.deepEqual([...out], [2, 2, 2]);
  // Uneven slices (3 + 1 images): the mean gradient of 4 images.
  weightedAverage([Float32Array.of(4, 0, 1), Float32Array.of(0, 8, 1)], [0.75, 0.25], out);
  assert.deepEqual([...out], [3, 2, 1]);
  weightedAverage(
    [Float32Array.of(3, 0, 0), Float32Array.of(0, 3, 0), Float32Array.of(0, 0, 3)],
    [1 / 3, 1 / 3, 1 / 3],
    out,
  );
  assert.deepEqual(
    [...out].map((v) => Math.round(v * 1e6) / 1e6),
    [1, 1, 1],
  );
  weightedAverage([Float32Array.of(5, 6, 7)], [1], out);
  assert.deepEqual([...out], [5, 6, 7]);
});

test('the checksum sees every bit, including the sign of zero', () => {
  const a = Float32Array.of(1, 2, 0);
  assert.equal(weightsChecksum([a]), weightsChecksum([Float32Array.of(1, 2, 0)]));
  assert.equal(weightsChecksum([a]), weightsChecksum([Float32Array.of(1), Float32Array.of(2, 0)]));
  assert.notEqual(weightsChecksum([a]), weightsChecksum([Float32Array.of(1, 2, -0)]));
  assert.notEqual(weightsChecksum([a]), weightsChecksum([Float32Array.of(1, 2 + 2 ** -22, 0)]));
  assert.notEqual(weightsChecksum([a]), weightsChecksum([Float32Array.of(2, 1, 0)]));
  assert.match(weightsChecksum([a]), /^[0-9a-f]{16}$/);
});

test('segments averaged separately (one per worker) make the whole weighted average', () => {
  const layout = parameterLayout([{ name: 'w', shape: [7] }], [{ name: 'mean', shape: [2] }]);
  const exchange = Exchange.allocate(layout, 3, 1);
  for (let w = 0; w < 3; w++) exchange.row(w).set(Array.from({ length: 9 }, (_, i) => (w + 1) * (i + 1)));
  const shares = [0.5, 0.25, 0.25];
  exchange.averageSegment(0, 4, shares);
  exchange.averageSegment(4, 9, shares);
  const whole = weightedAverage([exchange.row(0), exchange.row(1), exchange.row(2)], shares, new Float32Array(9));
  assert.deepEqual([...exchange.average], [...whole]);
  assert.deepEqual([...whole].slice(0, 3), [1.75, 3.5, 5.25]);
  // Only the rows of the slices count: a batch smaller than the workers uses the first rows.
  exchange.averageSegment(0, 9, [1]);
  assert.deepEqual([...exchange.average], [...exchange.row(0)]);
});
