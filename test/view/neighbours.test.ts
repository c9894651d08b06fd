import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRandom } from '../../src/util/random.ts';
// The page's own module (browser JavaScript without DOM use), run here as it runs there.
import { groupMeasures } from '../../src/view/client/neighbours.js';

/** Brute force: the share of each member's 10 nearest neighbours with its label, averaged. */
function bruteHit(positions: Float64Array, labels: Uint8Array, members: number[]): number {
  const n = labels.length;
  let total = 0;
  for (const i of members) {
    const order = Array.from({ length: n }, (_, j) => j)
      .filter((j) => j !== i)
      .map((j) => [
        (positions[2 * j]! - positions[2 * i]!) ** 2 + (positions[2 * j + 1]! - positions[2 * i + 1]!) ** 2,
        j,
      ])
      .sort((a, b) => a[0]! - b[0]!)
      .slice(0, 10);
    total += order.filter(([, j]) => labels[j!] === labels[i]).length / 10;
  }
  return total / members.length;
}

test("the selection's neighbourhood hit (grid search) equals a brute-force 10-NN count; spread is relative", () => {
  const random = createRandom(3);
  const n = 1500;
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 4);
  // Clusters per label with overlap, plus a few far outliers that need wide rings.
  const positions = Float64Array.from({ length: 2 * n }, (_, k) => {
    const label = labels[k >> 1]!;
    return (k & 1 ? label : 2 * label) + (random() - 0.5) * 2.5 + (k % 97 === 0 ? 40 : 0);
  });
  const members = Array.from({ length: 300 }, (_, k) => (k * 7) % n);
  for (const i of members) {
    const { hit } = groupMeasures(positions, n, labels, [i]);
    assert.equal(hit, bruteHit(positions, labels, [i]), `point ${i}`);
  }
  const { hit, spread } = groupMeasures(positions, n, labels, members);
  assert.ok(Math.abs(hit! - bruteHit(positions, labels, members)) < 1e-12, `hit ${hit}`);
  const all = Array.from({ length: n }, (_, i) => i);
  assert.ok(Math.abs(groupMeasures(positions, n, labels, all).spread! - 1) < 1e-12);
  assert.ok(spread! > 0 && spread! < 2);
});
