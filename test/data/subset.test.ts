import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../src/errors.ts';
import { stratifiedSubset, toModelInput } from '../../src/data/index.ts';

/** 10 classes × `perClass` labels, interleaved. */
function balancedLabels(perClass: number): Uint8Array {
  return Uint8Array.from({ length: 10 * perClass }, (_, i) => i % 10);
}

function classCounts(labels: Uint8Array, indices: Int32Array): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const i of indices) counts[labels[i]]++;
  return counts;
}

test('stratifiedSubset: sorted, distinct, equal per class, leftovers to the lowest labels', () => {
  const labels = balancedLabels(100);
  const subset = stratifiedSubset(labels, 95, 1);
  assert.equal(subset.length, 95);
  for (let i = 1; i < subset.length; i++) assert.ok(subset[i] > subset[i - 1], 'strictly ascending');
  assert.deepEqual(classCounts(labels, subset), [10, 10, 10, 10, 10, 9, 9, 9, 9, 9]);
  assert.deepEqual(classCounts(labels, stratifiedSubset(labels, 1000, 1)), new Array(10).fill(100));
  assert.equal(stratifiedSubset(labels, 0, 1).length, 0);
});

test('stratifiedSubset: same seed same images, another seed other images, smaller subsets nest in larger ones', () => {
  const labels = balancedLabels(100);
  assert.deepEqual(stratifiedSubset(labels, 200, 42), stratifiedSubset(labels, 200, 42));
  assert.notDeepEqual(stratifiedSubset(labels, 200, 42), stratifiedSubset(labels, 200, 43));
  const large = new Set(stratifiedSubset(labels, 500, 42));
  for (const i of stratifiedSubset(labels, 200, 42)) assert.ok(large.has(i), `${i} missing from the larger subset`);
});

test('stratifiedSubset: a short class gives all it has and the others make up the rest', () => {
  const labels = Uint8Array.from([...balancedLabels(20).filter((l) => l !== 0), 0, 0, 0]);
  const subset = stratifiedSubset(labels, 50, 3);
  const counts = classCounts(labels, subset);
  assert.equal(counts[0], 3);
  assert.equal(
    counts.reduce((a, b) => a + b, 0),
    50,
  );
  assert.ok(
    counts.slice(1).every((c) => c === 5 || c === 6),
    counts.join(','),
  );
});

test('stratifiedSubset: asking for more images than there are is one clear line', () => {
  assert.throws(
    () => stratifiedSubset(balancedLabels(1), 11, 0),
    (error: unknown) => error instanceof UserError && /11 images .* only 10/.test(error.message),
  );
});

test('toModelInput: x / 127.5 - 1 for every byte value, in index order', () => {
  const images = new Uint8Array(3 * 3072);
  for (let i = 0; i < images.length; i++) images[i] = i % 256;
  const all = toModelInput(images);
  assert.equal(all.length, images.length);
  for (let v = 0; v < 256; v++) assert.equal(all[v], Math.fround(v / 127.5 - 1));
  assert.equal(all[0], -1);
  assert.equal(all[255], 1);
  const picked = toModelInput(images, [2, 0]);
  assert.deepEqual(picked.subarray(0, 3072), all.subarray(2 * 3072, 3 * 3072));
  assert.deepEqual(picked.subarray(3072), all.subarray(0, 3072));
  const out = new Float32Array(4 * 3072).fill(7);
  const written = toModelInput(images, [1], out);
  assert.equal(written.buffer, out.buffer);
  assert.deepEqual(written, all.subarray(3072, 2 * 3072));
  assert.equal(out[3072], 7, 'nothing past the written images is touched');
  assert.throws(() => toModelInput(images, [3]), RangeError);
});
