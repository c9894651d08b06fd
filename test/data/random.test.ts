import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Random, mixSeed } from '../../src/util/random.ts';

const draws = (random: Random, n: number) => Array.from({ length: n }, () => random.nextUint32());

test('the same seed gives the same stream; reseed restarts it; other seeds differ', () => {
  const a = draws(new Random(123), 50);
  assert.deepEqual(draws(new Random(123), 50), a);
  const reused = new Random(9);
  reused.normal();
  assert.deepEqual(draws(reused.reseed(123), 50), a);
  assert.notDeepEqual(draws(new Random(124), 50), a);
  // Neighbouring seeds give unrelated first values (no shared leading bits pattern).
  const firsts = new Set(Array.from({ length: 1000 }, (_, seed) => new Random(seed).nextUint32()));
  assert.equal(firsts.size, 1000);
  // Large and fractional seeds are accepted and kept apart from their low 32 bits.
  assert.notDeepEqual(draws(new Random(2 ** 40 + 5), 5), draws(new Random(5), 5));
});

test('next() is uniform in [0, 1); int(n) covers 0…n-1 evenly', () => {
  const random = new Random(1);
  const buckets = new Array<number>(10).fill(0);
  for (let i = 0; i < 100_000; i++) {
    const u = random.next();
    assert.ok(u >= 0 && u < 1);
    buckets[Math.floor(u * 10)]++;
  }
  for (const count of buckets) assert.ok(Math.abs(count - 10_000) < 500, buckets.join(','));
  const seen = new Array<number>(7).fill(0);
  for (let i = 0; i < 7_000; i++) seen[random.int(7)]++;
  for (const count of seen) assert.ok(count > 850 && count < 1150, seen.join(','));
});

test('normal() has mean 0 and standard deviation 1, and honours mean and std', () => {
  const random = new Random(2);
  const n = 40_000;
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const z = random.normal();
    sum += z;
    squares += z * z;
  }
  const mean = sum / n;
  const std = Math.sqrt(squares / n - mean * mean);
  assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(std - 1) < 0.03, `std ${std}`);
  let shifted = 0;
  for (let i = 0; i < 10_000; i++) shifted += random.normal(5, 0.1);
  assert.ok(Math.abs(shifted / 10_000 - 5) < 0.01);
});

test('shuffle and permutation give permutations; mixSeed separates its inputs', () => {
  const order = new Random(3).permutation(1000);
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    Array.from({ length: 1000 }, (_, i) => i),
  );
  assert.notDeepEqual(
    [...order],
    Array.from({ length: 1000 }, (_, i) => i),
  );
  assert.equal(mixSeed(1, 2, 3), mixSeed(1, 2, 3));
  const seeds = new Set([mixSeed(1, 2), mixSeed(2, 1), mixSeed(1, 2, 1), mixSeed(1, 3), mixSeed(0), mixSeed(1)]);
  assert.equal(seeds.size, 6);
  for (const s of seeds) assert.ok(Number.isInteger(s) && s >= 0 && s < 2 ** 32);
});
